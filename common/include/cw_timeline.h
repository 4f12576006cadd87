/**
 * @file cw_timeline.h
 * @brief Timelines: record when tasks and requests run, then draw them so concurrency can be seen.
 *
 * Off by default (then recording costs one branch). Switch it on with
 * cw_timeline_enable(true) or by setting CW_TIMELINE=1 in the environment;
 * CW_TRACE=FILE switches it on too, and cw_run() then writes the Chrome trace
 * of everything recorded to FILE when it returns (open it in Perfetto).
 * The library records every task (spawned, started, finished) and every
 * request (queued, connected, first byte, finished or failed) by itself;
 * programs can add spans of their own with cw_timeline_begin()/cw_timeline_end().
 * Memory is bounded: past CW_TIMELINE_MAX_SPANS spans, new ones are dropped and counted.
 */
#ifndef CW_TIMELINE_H
#define CW_TIMELINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/** Most spans kept at once. */
#define CW_TIMELINE_MAX_SPANS 100000

/** What a span stands for. */
typedef enum cw_span_kind {
    CW_SPAN_TASK,    /**< a task, from start to finish */
    CW_SPAN_REQUEST, /**< an HTTP request, from queued to finished */
    CW_SPAN_USER,    /**< a span a program recorded itself */
} cw_span_kind;

/** One recorded span. Times are cw_now_us() values; 0 means "did not happen". */
typedef struct cw_span {
    cw_span_kind kind;      /**< what it is */
    char label[48];         /**< a short label (cut to fit) */
    uint64_t begin_us;      /**< spawned / queued / begun */
    uint64_t start_us;      /**< a task started running / a request got its connection */
    uint64_t first_byte_us; /**< a request's first response byte */
    uint64_t end_us;        /**< finished */
    int error;              /**< 0, or the cw_error it ended with */
} cw_span;

/** @brief Switch recording on or off (it starts as CW_TIMELINE in the environment says). */
void cw_timeline_enable(bool on);

/** @brief True when recording is on. */
bool cw_timeline_enabled(void);

/**
 * @brief Open a span now.
 * @param kind what it stands for.
 * @param label a short label, copied.
 * @return the span's id, or -1 when recording is off or the span table is full.
 */
int cw_timeline_begin(cw_span_kind kind, const char *label);

/** @brief Mark the span's start (task running, request connected). Ignores id -1. */
void cw_timeline_start(int id);

/** @brief Mark the span's first byte of response. Ignores id -1. */
void cw_timeline_first_byte(int id);

/** @brief Close the span now with its outcome (0 or a cw_error). Ignores id -1. */
void cw_timeline_end(int id, int error);

/** @brief How many spans are recorded. */
int cw_timeline_count(void);

/** @brief The span with this id (0 <= id < cw_timeline_count()), or NULL. */
const cw_span *cw_timeline_span(int id);

/**
 * @brief Draw the recorded spans as an ASCII Gantt chart, one row per span.
 * @param out where to print (colours only when it is a terminal).
 * @param title a line printed above the chart, or NULL.
 *
 * @code
 * cw_timeline_enable(true);                     // record every task and request
 * cw_run(main_task, NULL, NULL);
 * cw_timeline_print(stdout, "three requests at once");
 * @endcode
 */
void cw_timeline_print(FILE *out, const char *title);

/**
 * @brief Write the spans as Chrome trace-event JSON, which Perfetto and chrome://tracing load.
 * @param path the file to write.
 * @return 0, or a negative errno-style value when the file could not be written.
 */
int cw_timeline_write_trace(const char *path);

/** @brief Forget every recorded span. */
void cw_timeline_clear(void);

#endif
