#include "log.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char *const level_names[] = {"debug", "info", "warn", "error"};

size_t hello_utf8_sequence(const unsigned char *s, size_t avail)
{
    unsigned char lo = 0x80, hi = 0xBF;
    size_t n;

    if (avail == 0) return 0;
    if (s[0] < 0x80) return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF) n = 2;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF) n = 3;
    else if (s[0] >= 0xF0 && s[0] <= 0xF4) n = 4;
    else return 0;
    if (avail < n) return 0;
    if (s[0] == 0xE0) lo = 0xA0;
    else if (s[0] == 0xED) hi = 0x9F;
    else if (s[0] == 0xF0) lo = 0x90;
    else if (s[0] == 0xF4) hi = 0x8F;
    if (s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF) return 0;
    return n;
}

int hello_json_escape(char *out, size_t size, size_t *len, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t n = *len;
    int rc = 0;

    while (*p != '\0') {
        char esc[7];
        const char *from = esc;
        size_t k = 0, used = 1;

        if (*p == '"' || *p == '\\') {
            esc[k++] = '\\';
            esc[k++] = (char)*p;
        } else if (*p < 0x20 || *p == 0x7F) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[*p >> 4];
            esc[5] = hex[*p & 0xF];
            k = 6;
        } else if (*p < 0x80) {
            esc[k++] = (char)*p;
        } else if ((used = hello_utf8_sequence(p, strnlen((const char *)p, 4))) > 0) {
            from = (const char *)p;
            k = used;
        } else {
            from = "\xef\xbf\xbd"; /* U+FFFD REPLACEMENT CHARACTER for a byte that is not UTF-8 */
            k = 3;
            used = 1;
        }
        if (n + k >= size) {
            rc = -1;
            break;
        }
        memcpy(out + n, from, k);
        n += k;
        p += used;
    }
    if (n < size) out[n] = '\0';
    *len = n;
    return rc;
}

void hello_log_fields_init(hello_log_fields *f)
{
    f->len = 0;
    f->buf[0] = '\0';
}

/* Appends s whole, or nothing. Returns 0, or -1 when it does not fit. */
static int append_raw(hello_log_fields *f, const char *s)
{
    size_t k = strlen(s);

    if (f->len + k >= sizeof f->buf) return -1;
    memcpy(f->buf + f->len, s, k + 1);
    f->len += k;
    return 0;
}

/* Appends ,"key":value whole, or nothing when it does not fit. A string value (quote = 1) is
 * escaped and quoted, and a long one is cut at a character boundary and marked, leaving room for
 * later fields; otherwise value is JSON text already (a number). */
static void append_field(hello_log_fields *f, const char *key, const char *value, int quote)
{
    size_t saved = f->len, limit;
    int cut;

    if (append_raw(f, ",\"") < 0 || hello_json_escape(f->buf, sizeof f->buf, &f->len, key) < 0 ||
        append_raw(f, quote ? "\":\"" : "\":") < 0)
        goto rollback;
    if (!quote) {
        if (append_raw(f, value) < 0) goto rollback;
        return;
    }
    limit = f->len + HELLO_LOG_VALUE_MAX + 1;
    if (limit > sizeof f->buf) limit = sizeof f->buf;
    cut = hello_json_escape(f->buf, limit, &f->len, value != NULL ? value : "") < 0;
    if ((cut && append_raw(f, "...") < 0) || append_raw(f, "\"") < 0) goto rollback;
    return;
rollback:
    f->len = saved;
    f->buf[saved] = '\0';
}

void hello_log_str(hello_log_fields *f, const char *key, const char *value)
{
    append_field(f, key, value, 1);
}

void hello_log_int(hello_log_fields *f, const char *key, long long value)
{
    char num[24];

    snprintf(num, sizeof num, "%lld", value);
    append_field(f, key, num, 0);
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
    len += (size_t)snprintf(line + len, sizeof line - len,
                            ".%03ldZ\",\"level\":\"%s\",\"component\":\"%s\",\"pid\":%ld,\"msg\":\"",
                            (long)(tv.tv_usec / 1000), level_names[level], lg->component, (long)getpid());
    hello_json_escape(line, sizeof line - 3, &len, msg); /* our own short messages: never cut */
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
