/**
 * @file cw_error.h
 * @brief Error codes: every failure in the library is a negative number with a message.
 *
 * Like libuv, a function that can fail returns 0 on success or one of the
 * negative codes below; cw_strerror() names the code in words. A future that
 * fails keeps a longer message too (see cw_future_message()).
 */
#ifndef CW_ERROR_H
#define CW_ERROR_H

/** The library's error codes. All are negative so that `rc < 0` means failure. */
typedef enum cw_error {
    CW_OK = 0,               /**< success */
    CW_ECANCELLED = -1001,   /**< the operation or the awaited future was cancelled */
    CW_ETIMEDOUT = -1002,    /**< a timeout expired */
    CW_ECONNREFUSED = -1003, /**< nothing listens on that port */
    CW_ECONNRESET = -1004,   /**< the server closed or reset the connection mid-response */
    CW_ETOOBIG = -1005,      /**< the response body is larger than the configured maximum */
    CW_EBADURL = -1006,      /**< the URL is malformed or empty */
    CW_ESCHEME = -1007,      /**< the URL's scheme is not http or https */
    CW_EHOST = -1008,        /**< the host name could not be resolved */
    CW_EHTTP = -1009,        /**< any other transfer failure (the message says which) */
    CW_EINVAL = -1010,       /**< an invalid argument (NULL, negative limit, empty set) */
    CW_ENOTASK = -1011,      /**< a suspending call was made outside a task */
    CW_EDONE = -1012,        /**< the future had already finished */
    CW_EPENDING = -1013,     /**< the future has not finished yet */
    CW_EEOF = -1014,         /**< nothing left: every item has been handed out */
    CW_EDEADLOCK = -1015,    /**< the main task waits on a future that nothing can finish */
    CW_ENOMEM = -1016,       /**< out of memory */
    CW_EFAILED = -1017,      /**< a task failed without naming a more precise code */
    CW_EMFILE = -1018,       /**< this process has no file descriptor left for a socket */
    CW_ELIMIT = -1019,       /**< a limit of the process or the kernel was reached (the message names it) */
} cw_error;

/**
 * @brief Name an error code in a few words.
 * @param code a cw_error value (0 gives "success"; an unknown code gives "unknown error").
 * @return a static string; never NULL.
 *
 * @code
 * int rc = cw_await(req);
 * if (rc < 0)
 *     printf("%s (%s)\n", cw_strerror(rc), cw_error_name(rc)); // e.g. "timed out (CW_ETIMEDOUT)"
 * @endcode
 */
const char *cw_strerror(int code);

/**
 * @brief The symbolic name of an error code, for tests and logs.
 * @param code a cw_error value.
 * @return a static string such as "CW_ETIMEDOUT"; never NULL.
 */
const char *cw_error_name(int code);

#endif
