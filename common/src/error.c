/* error.c -- the library's error codes: one table of names and descriptions. */
#include "cw_error.h"

static const struct {
    int code;
    const char *name;
    const char *text;
} errors[] = {
    { CW_OK, "CW_OK", "success" },
    { CW_ECANCELLED, "CW_ECANCELLED", "operation cancelled" },
    { CW_ETIMEDOUT, "CW_ETIMEDOUT", "timed out" },
    { CW_ECONNREFUSED, "CW_ECONNREFUSED", "connection refused" },
    { CW_ECONNRESET, "CW_ECONNRESET", "connection reset or closed by the server" },
    { CW_ETOOBIG, "CW_ETOOBIG", "response body larger than the configured maximum" },
    { CW_EBADURL, "CW_EBADURL", "malformed URL" },
    { CW_ESCHEME, "CW_ESCHEME", "unsupported URL scheme" },
    { CW_EHOST, "CW_EHOST", "host name could not be resolved" },
    { CW_EHTTP, "CW_EHTTP", "HTTP transfer failed" },
    { CW_EINVAL, "CW_EINVAL", "invalid argument" },
    { CW_ENOTASK, "CW_ENOTASK", "called outside a task" },
    { CW_EDONE, "CW_EDONE", "future already finished" },
    { CW_EPENDING, "CW_EPENDING", "future not finished yet" },
    { CW_EEOF, "CW_EEOF", "no more items" },
    { CW_EDEADLOCK, "CW_EDEADLOCK", "waiting on a future that nothing can finish" },
    { CW_ENOMEM, "CW_ENOMEM", "out of memory" },
    { CW_EFAILED, "CW_EFAILED", "task failed" },
    { CW_EMFILE, "CW_EMFILE", "too many open files in this process" },
    { CW_ELIMIT, "CW_ELIMIT", "a limit of the process or the kernel was reached" },
};

static int find(int code)
{
    for (int i = 0; i < (int)(sizeof errors / sizeof errors[0]); i++)
        if (errors[i].code == code)
            return i;
    return -1;
}

const char *cw_strerror(int code)
{
    int i = find(code);
    return i < 0 ? "unknown error" : errors[i].text;
}

const char *cw_error_name(int code)
{
    int i = find(code);
    return i < 0 ? "CW_E?" : errors[i].name;
}
