#include "template.h"

#include <stdio.h>
#include <string.h>

static size_t placeholder_name_len(const char *p)
{
    size_t n = 0;

    while ((p[n] >= 'A' && p[n] <= 'Z') || p[n] == '_' || (n > 0 && p[n] >= '0' && p[n] <= '9')) n++;
    return p[n] == '}' ? n : 0;
}

long hello_template_render(const char *tpl, const hello_template_var *vars, size_t nvars, char *out, size_t out_size,
                           char *err, size_t err_size)
{
    size_t len = 0;

    for (const char *p = tpl; *p != '\0';) {
        const char *piece = p;
        size_t piece_len = 1, name_len;

        if (p[0] == '$' && p[1] == '{' && (name_len = placeholder_name_len(p + 2)) > 0) {
            size_t i;

            for (i = 0; i < nvars; i++)
                if (strlen(vars[i].name) == name_len && strncmp(vars[i].name, p + 2, name_len) == 0) break;
            if (i == nvars) {
                snprintf(err, err_size, "nginx template: no value for ${%.*s}", (int)name_len, p + 2);
                return -1;
            }
            piece = vars[i].value;
            piece_len = strlen(piece);
            p += name_len + 3;
        } else {
            p++;
        }
        if (len + piece_len >= out_size) {
            snprintf(err, err_size, "nginx template: rendered configuration exceeds %zu bytes", out_size);
            return -1;
        }
        memcpy(out + len, piece, piece_len);
        len += piece_len;
    }
    out[len] = '\0';
    return (long)len;
}
