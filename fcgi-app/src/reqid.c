#include "reqid.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define WEYL_STEP 0x9e3779b97f4a7c15u /* odd, so a sequence visits all 2^64 values */

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

int hello_reqid_seed(hello_reqid_gen *g)
{
    uint64_t seed[2];

    if (getrandom(seed, sizeof seed, 0) == (ssize_t)sizeof seed) {
        g->hi = seed[0];
        g->lo = seed[1];
        return 0;
    }
    int saved = errno != 0 ? errno : EIO;
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    g->hi = mix64((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
    g->lo = mix64(g->hi ^ (uint64_t)getpid());
    errno = saved;
    return -1;
}

static void put_hex64(char *out, uint64_t v)
{
    static const char digits[] = "0123456789abcdef";

    for (int i = 15; i >= 0; i--) {
        out[i] = digits[v & 0xf];
        v >>= 4;
    }
}

void hello_reqid_next(hello_reqid_gen *g, char out[HELLO_REQID_FRESH_LEN + 1])
{
    g->hi += WEYL_STEP;
    g->lo += WEYL_STEP;
    put_hex64(out, mix64(g->hi));
    put_hex64(out + 16, mix64(g->lo));
    out[HELLO_REQID_FRESH_LEN] = '\0';
}

/* The characters of a sane id: [A-Za-z0-9._:-]. A table, as every request is checked. */
static const unsigned char id_char[256] = {
    ['-'] = 1, ['.'] = 1, [':'] = 1, ['_'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
    ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
    ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1,
    ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1,
    ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

int hello_reqid_is_sane(const char *id)
{
    size_t n;

    if (id == NULL) return 0;
    for (n = 0; id[n] != '\0'; n++)
        if (n >= HELLO_REQID_MAX_LEN || !id_char[(unsigned char)id[n]]) return 0;
    return n >= HELLO_REQID_MIN_LEN;
}
