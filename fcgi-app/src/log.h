#ifndef HELLO_LOG_H_
#define HELLO_LOG_H_

#include <stddef.h>

/* Structured logging: one JSON object per line on a file descriptor (stderr by default),
 * written with a single write() so lines from several processes never interleave. */

typedef enum { HELLO_LOG_DEBUG = 0, HELLO_LOG_INFO, HELLO_LOG_WARN, HELLO_LOG_ERROR } hello_log_level;

typedef struct {
    hello_log_level level; /* lines below this level are dropped */
    int fd;
    const char *component; /* "master", "worker", ... */
} hello_logger;

/* Every line is one JSON object of valid UTF-8: a byte that is not part of a well-formed UTF-8
 * sequence becomes U+FFFD. A string value longer than HELLO_LOG_VALUE_MAX bytes (escaped) is cut
 * at a character boundary and ends in "..."; a field that does not fit the line is left out
 * whole, never half of one. */
#define HELLO_LOG_VALUE_MAX 256

/* Extra fields for one line, built up before hello_log_emit. Too many fields are cut, never overflow. */
typedef struct {
    char buf[1024];
    size_t len;
} hello_log_fields;

void hello_log_fields_init(hello_log_fields *f);
void hello_log_str(hello_log_fields *f, const char *key, const char *value);
void hello_log_int(hello_log_fields *f, const char *key, long long value);

/* Writes {"time":...,"level":...,"component":...,"pid":...,"msg":...,<fields>}. f may be NULL. */
void hello_log_emit(const hello_logger *lg, hello_log_level level, const char *msg, const hello_log_fields *f);

/* Convenience: a line with at most one string field (key may be NULL). */
void hello_log(const hello_logger *lg, hello_log_level level, const char *msg, const char *key, const char *value);

/* Parses "debug", "info", "warn" or "error". Returns 0, or -1 when the name is unknown. */
int hello_log_level_parse(const char *name, hello_log_level *level);

/* Length of the well-formed UTF-8 sequence starting at s, of which avail bytes may be read
 * (RFC 3629, section 4: no overlong forms, no surrogates, nothing above U+10FFFF), or 0 when the
 * byte at s does not start one. */
size_t hello_utf8_sequence(const unsigned char *s, size_t avail);

/* Appends s to out[*len..size) as the inside of a JSON string (escaped, no quotes, bytes that are
 * not UTF-8 replaced by U+FFFD), NUL-terminated. Returns 0, or -1 when it stopped short (at a
 * character boundary) rather than overflow. Exposed for tests. */
int hello_json_escape(char *out, size_t size, size_t *len, const char *s);

#endif /* HELLO_LOG_H_ */
