#include "name.h"

#include <string.h>

/* A macro's value as a string literal, so a message follows the constant it states. */
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes one UTF-8 sequence at s[0..len). Returns its length in bytes and stores the code
 * point, or returns 0 when the bytes are not well-formed UTF-8 (RFC 3629). */
static size_t utf8_next(const unsigned char *s, size_t len, unsigned long *cp)
{
    unsigned char b = s[0];
    size_t need;
    unsigned long min;

    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    if (b >= 0xC2 && b <= 0xDF) {
        need = 2;
        min = 0x80;
        *cp = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
        need = 3;
        min = 0x800;
        *cp = b & 0x0F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 4;
        min = 0x10000;
        *cp = b & 0x07;
    } else {
        return 0; /* continuation byte, overlong lead (C0, C1) or beyond U+10FFFF (F5..FF) */
    }
    if (len < need) return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        *cp = (*cp << 6) | (s[i] & 0x3F);
    }
    if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF)) return 0;
    return need;
}

static int is_control(unsigned long cp)
{
    return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F);
}

/* Validates decoded bytes as a name: UTF-8, no control characters, bounded length. */
static hello_name_status validate(const unsigned char *s, size_t len)
{
    size_t chars = 0;

    for (size_t i = 0; i < len;) {
        unsigned long cp;
        size_t n = utf8_next(s + i, len - i, &cp);

        if (n == 0) return HELLO_NAME_BAD_UTF8;
        if (is_control(cp)) return HELLO_NAME_CONTROL;
        if (++chars > HELLO_NAME_MAX_CHARS) return HELLO_NAME_TOO_LONG;
        i += n;
    }
    return HELLO_NAME_OK;
}

hello_name_status hello_name_decode(const char *raw, size_t raw_len, char *out, size_t out_size, size_t *out_len)
{
    size_t n = 0;
    int too_long = 0;

    if (out_size < HELLO_NAME_MAX_BYTES + 1) return HELLO_NAME_TOO_LONG;
    for (size_t i = 0; i < raw_len; i++) {
        char c = raw[i];

        if (c == '%') {
            if (raw_len - i < 3) return HELLO_NAME_BAD_PERCENT;
            int h = hex_value(raw[i + 1]), l = hex_value(raw[i + 2]);
            if (h < 0 || l < 0) return HELLO_NAME_BAD_PERCENT;
            c = (char)(h << 4 | l);
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        /* Keep scanning past the limit so malformed percent-encoding is still reported. */
        if (n < HELLO_NAME_MAX_BYTES) out[n++] = c;
        else too_long = 1;
    }
    out[n] = '\0';
    *out_len = n;
    if (n == 0) return HELLO_NAME_ABSENT;

    hello_name_status status = validate((const unsigned char *)out, n);
    if (status == HELLO_NAME_OK && too_long) return HELLO_NAME_TOO_LONG;
    if (status == HELLO_NAME_BAD_UTF8 && too_long) return HELLO_NAME_TOO_LONG;
    return status;
}

/* 1 when the query key raw[0..len), percent-decoded ('+' a space) like its value, is "name": the
 * form decoding (WHATWG URL, application/x-www-form-urlencoded parsing) decodes names and values
 * alike, so "na%6De" is the same parameter as "name". Malformed escapes never equal "name". */
static int key_is_name(const char *raw, size_t len)
{
    static const char want[] = "name";
    size_t n = 0;

    for (size_t i = 0; i < len; i++, n++) {
        char c = raw[i];

        if (c == '%') {
            if (len - i < 3 || hex_value(raw[i + 1]) < 0 || hex_value(raw[i + 2]) < 0) return 0;
            c = (char)(hex_value(raw[i + 1]) << 4 | hex_value(raw[i + 2]));
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (n >= sizeof want - 1 || c != want[n]) return 0;
    }
    return n == sizeof want - 1;
}

/* 1 when s[0..len) is only spaces. */
static int only_spaces(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ') return 0;
    return 1;
}

hello_name_status hello_name_from_query(const char *query, char *out, size_t out_size, size_t *out_len)
{
    const char *found = NULL;
    size_t found_len = 0;

    *out_len = 0;
    if (out_size > 0) out[0] = '\0';
    if (query == NULL) return HELLO_NAME_ABSENT;

    for (const char *p = query; *p != '\0';) {
        size_t len = strcspn(p, "&"), key_len = strcspn(p, "=&");

        if (key_is_name(p, key_len)) {
            if (found != NULL) return HELLO_NAME_REPEATED;
            found = key_len == len ? p + len : p + key_len + 1;
            found_len = key_len == len ? 0 : len - key_len - 1;
        }
        p += len;
        if (*p == '&') p++;
    }
    if (found == NULL) return HELLO_NAME_ABSENT;
    hello_name_status status = hello_name_decode(found, found_len, out, out_size, out_len);
    /* A name of nothing but spaces greets nobody: it is the default, like an empty one. */
    if (status == HELLO_NAME_OK && only_spaces(out, *out_len)) {
        out[0] = '\0';
        *out_len = 0;
        return HELLO_NAME_ABSENT;
    }
    return status;
}

const char *hello_name_status_reason(hello_name_status status)
{
    switch (status) {
    case HELLO_NAME_BAD_PERCENT: return "name has malformed percent-encoding";
    case HELLO_NAME_BAD_UTF8: return "name is not valid UTF-8";
    case HELLO_NAME_CONTROL: return "name contains control characters";
    case HELLO_NAME_TOO_LONG: return "name is longer than " STRINGIFY(HELLO_NAME_MAX_CHARS) " characters";
    case HELLO_NAME_REPEATED: return "name is given more than once";
    case HELLO_NAME_OK:
    case HELLO_NAME_ABSENT: break;
    }
    return "name is valid";
}
