#include "log.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void hello_json_escape(char *out, size_t size, size_t *len, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = *len;

    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[7];
        size_t k = 0;

        if (c == '"' || c == '\\') {
            esc[k++] = '\\';
            esc[k++] = (char)c;
        } else if (c < 0x20 || c == 0x7F) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 0xF];
            k = 6;
        } else {
            esc[k++] = (char)c;
        }
        if (n + k >= size) break;
        memcpy(out + n, esc, k);
        n += k;
    }
    if (n < size) out[n] = '\0';
    *len = n;
}

void hello_log_fields_init(hello_log_fields *f)
{
    f->len = 0;
    f->buf[0] = '\0';
}

static void append_raw(hello_log_fields *f, const char *s)
{
    size_t k = strlen(s);

    if (f->len + k >= sizeof f->buf) return;
    memcpy(f->buf + f->len, s, k + 1);
    f->len += k;
}

void hello_log_str(hello_log_fields *f, const char *key, const char *value)
{
    size_t saved = f->len;

    append_raw(f, ",\"");
    hello_json_escape(f->buf, sizeof f->buf, &f->len, key);
    append_raw(f, "\":\"");
    hello_json_escape(f->buf, sizeof f->buf, &f->len, value != NULL ? value : "");
    append_raw(f, "\"");
    if (f->len + 1 >= sizeof f->buf) { /* did not fit: drop the whole field */
        f->len = saved;
        f->buf[saved] = '\0';
    }
}

void hello_log_int(hello_log_fields *f, const char *key, long long value)
{
    char num[32];
    size_t saved = f->len;

    snprintf(num, sizeof num, "\":%lld", value);
    append_raw(f, ",\"");
    hello_json_escape(f->buf, sizeof f->buf, &f->len, key);
    append_raw(f, num);
    if (f->len + 1 >= sizeof f->buf) {
        f->len = saved;
        f->buf[saved] = '\0';
    }
}

void hello_log_emit(const hello_logger *lg, hello_log_level level, const char *msg, const hello_log_fields *f)
{
    char line[2048];
    size_t len = 0;
    struct timeval tv;
    struct tm tm;

    if (level < lg->level) return;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    len = strftime(line, sizeof line, "{\"time\":\"%Y-%m-%dT%H:%M:%S", &tm);
    len += (size_t)snprintf(line + len, sizeof line - len, ".%03ldZ\",\"level\":\"%s\",\"component\":\"%s\",\"pid\":%ld,\"msg\":\"",
                            (long)(tv.tv_usec / 1000), level_names[level], lg->component, (long)getpid());
    hello_json_escape(line, sizeof line - 3, &len, msg);
    line[len++] = '"';
    if (f != NULL && f->len > 0 && len + f->len < sizeof line - 3) {
        memcpy(line + len, f->buf, f->len);
        len += f->len;
    }
    line[len++] = '}';
    line[len++] = '\n';
    /* A short write to a pipe or terminal is not worth retrying for a log line. */
    if (write(lg->fd, line, len) < 0) return;
}

void hello_log(const hello_logger *lg, hello_log_level level, const char *msg, const char *key, const char *value)
{
    hello_log_fields f;

    if (level < lg->level) return;
    hello_log_fields_init(&f);
    if (key != NULL) hello_log_str(&f, key, value);
    hello_log_emit(lg, level, msg, &f);
}

int hello_log_level_parse(const char *name, hello_log_level *level)
{
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *level = (hello_log_level)i;
            return 0;
        }
    }
    return -1;
}
