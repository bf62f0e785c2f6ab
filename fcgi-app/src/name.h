#ifndef HELLO_NAME_H_
#define HELLO_NAME_H_

#include <stddef.h>

/* The greeting's name: taken from the query string, percent-decoded, validated. */

#define HELLO_NAME_MAX_CHARS 64                         /* Unicode code points; a plain number: a message states it */
#define HELLO_NAME_MAX_BYTES (HELLO_NAME_MAX_CHARS * 4) /* UTF-8 worst case */
#define HELLO_NAME_DEFAULT "John"

typedef enum {
    HELLO_NAME_OK = 0,
    HELLO_NAME_ABSENT,      /* no name parameter, an empty one or one of only spaces: the default */
    HELLO_NAME_BAD_PERCENT, /* '%' not followed by two hex digits */
    HELLO_NAME_BAD_UTF8,    /* not valid UTF-8 (overlong, surrogate, truncated, > U+10FFFF) */
    HELLO_NAME_CONTROL,     /* holds a C0/C1 control character or DEL */
    HELLO_NAME_TOO_LONG,    /* more than HELLO_NAME_MAX_CHARS code points */
    HELLO_NAME_REPEATED     /* the name parameter appears more than once */
} hello_name_status;

/* Finds the single `name` parameter (its key percent-decoded too, so "na%6De" counts) in a raw
 * query string (may be NULL) and decodes it into
 * out (NUL-terminated, at most HELLO_NAME_MAX_BYTES bytes plus the NUL; out_size must be at least
 * HELLO_NAME_MAX_BYTES + 1). Returns HELLO_NAME_OK with *out_len set, or another status. */
hello_name_status hello_name_from_query(const char *query, char *out, size_t out_size, size_t *out_len);

/* Percent-decodes raw[0..raw_len) ('+' is a space) into out and validates it as a name.
 * Same contract as hello_name_from_query; an empty result is HELLO_NAME_ABSENT. */
hello_name_status hello_name_decode(const char *raw, size_t raw_len, char *out, size_t out_size, size_t *out_len);

/* One line of plain text explaining a non-OK status, for a 400 body. */
const char *hello_name_status_reason(hello_name_status status);

#endif /* HELLO_NAME_H_ */
