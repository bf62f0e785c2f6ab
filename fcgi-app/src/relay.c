#include "relay.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

size_t hello_utf8_repair(const char *in, size_t len, char *out)
{
    const unsigned char *p = (const unsigned char *)in, *end = p + len;
    size_t n = 0;

    while (p < end) {
        size_t k = hello_utf8_sequence(p, (size_t)(end - p));

        if (k == 0) {
            memcpy(out + n, "\\ufffd", 6); /* a JSON escape: the bytes stand inside JSON strings */
            n += 6;
            p++;
        } else {
            memcpy(out + n, p, k);
            n += k;
            p += k;
        }
    }
    return n;
}

/* Writes all of buf; a log line is not worth more than EINTR retries. */
static void write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);

        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        buf += w;
        len -= (size_t)w;
    }
}

/* 1 when buf[0..len) is all ASCII, the usual case: then it goes out as it is, uncopied. */
static int all_ascii(const char *buf, size_t len)
{
    unsigned char any = 0;

    for (size_t i = 0; i < len; i++) any |= (unsigned char)buf[i];
    return any < 0x80;
}

static void emit(hello_relay *r, const char *lines, size_t len)
{
    if (all_ascii(lines, len)) write_all(r->out_fd, lines, len);
    else write_all(r->out_fd, r->out, hello_utf8_repair(lines, len, r->out));
}

int hello_relay_pump(hello_relay *r)
{
    for (;;) {
        ssize_t n = read(r->in_fd, r->buf + r->len, sizeof r->buf - r->len);
        const char *last;
        size_t whole;

        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
        if (n <= 0) {
            if (r->len > 0) emit(r, r->buf, r->len);
            r->len = 0;
            close(r->in_fd);
            r->in_fd = -1;
            return -1;
        }
        r->len += (size_t)n;
        /* Every complete line in one write (nginx flushes its 32 KiB log buffer at once); a
         * full buffer without a newline goes out as it is. */
        last = memrchr(r->buf, '\n', r->len);
        whole = last != NULL ? (size_t)(last - r->buf) + 1 : r->len == sizeof r->buf ? r->len : 0;
        if (whole == 0) continue;
        emit(r, r->buf, whole);
        memmove(r->buf, r->buf + whole, r->len - whole);
        r->len -= whole;
    }
}
