#ifndef HELLO_TEMPLATE_H_
#define HELLO_TEMPLATE_H_

#include <stddef.h>

/* Fills ${UPPER_CASE} placeholders in a text (the nginx configuration template). nginx's own
 * variables ($name, ${name}) are lower case and pass through untouched. */

typedef struct {
    const char *name; /* e.g. "PORT" */
    const char *value;
} hello_template_var;

/* Renders tpl into out. Returns the length written, or -1 with a message in err when a
 * placeholder has no value or out is too small. */
long hello_template_render(const char *tpl, const hello_template_var *vars, size_t nvars, char *out, size_t out_size,
                           char *err, size_t err_size);

#endif /* HELLO_TEMPLATE_H_ */
