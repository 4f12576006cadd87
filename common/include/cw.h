/**
 * @file cw.h
 * @brief The whole runtime library in one include: tasks, futures, HTTP sessions, combinators, task
 *        groups, timeout scopes, semaphores, timelines.
 *
 * Every name starts with `cw_` ("concurrent web"). One header per idea:
 * cw_error.h, cw_future.h, cw_task.h, cw_http.h, cw_combine.h, cw_group.h,
 * cw_timeout.h, cw_semaphore.h, cw_timeline.h;
 * the fixture server that demos and tests talk to is in cw_fixture.h.
 */
#ifndef CW_H
#define CW_H

#include "cw_error.h"
#include "cw_future.h"
#include "cw_task.h"
#include "cw_http.h"
#include "cw_combine.h"
#include "cw_group.h"
#include "cw_timeout.h"
#include "cw_semaphore.h"
#include "cw_timeline.h"

#endif
