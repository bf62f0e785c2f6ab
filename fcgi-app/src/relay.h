#ifndef HELLO_RELAY_H_
#define HELLO_RELAY_H_

#include <stddef.h>

/* nginx's standard output (its JSON access log) reaches the container's through the master.
 * Two reasons. nginx opens /dev/stdout by name: started as root, the master runs everything as
 * nobody, who may not open a terminal or a root-owned file there (13: Permission denied), but may
 * open a pipe it made itself. And nginx's escape=json passes bytes of 0x80 and above as they came
 * (a path of /%FF, a User-Agent of ff fe): the relay replaces each byte that is not part of
 * well-formed UTF-8 with the JSON escape \ufffd, so every line parses as JSON in UTF-8. */

#define HELLO_RELAY_BUF (64 * 1024)

typedef struct {
    int in_fd;  /* read end of nginx's stdout pipe, -1 once it is closed */
    int out_fd; /* where lines go (the master's stdout) */
    size_t len; /* bytes of an unfinished line in buf */
    char buf[HELLO_RELAY_BUF];
    char out[HELLO_RELAY_BUF * 6]; /* a line whose every byte becomes \ufffd */
} hello_relay;

/* Writes in[0..len) to out with each byte outside well-formed UTF-8 (RFC 3629) replaced by the
 * six characters \ufffd. out must hold 6 * len bytes. Returns the length written. Pure. */
size_t hello_utf8_repair(const char *in, size_t len, char *out);

/* Reads what waits on r->in_fd and writes the complete lines, repaired, to r->out_fd in one
 * write (ASCII, the usual case, uncopied); a line longer than the buffer goes out in pieces. Returns 0, or -1 at end of file (or a read error),
 * after writing what was left; r->in_fd is then closed. */
int hello_relay_pump(hello_relay *r);

#endif /* HELLO_RELAY_H_ */
