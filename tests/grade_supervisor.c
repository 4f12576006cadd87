/**
 * @file grade_supervisor.c
 * @brief The program make grade trusts: runs a chapter's tests through a sandbox and writes the report.
 *
 *   grade_supervisor --chapter CH --tests FILE [--json FILE] [--only NAME] [--expect-fail]
 *                    [--program GRADER] [--quiet-output] -- RUNNER...
 *
 * FILE holds the tests as `GRADER --table` prints them (name, points, timeout, title, tab-separated),
 * produced by the chapter's test list built without any exercise. RUNNER... runs one test: the
 * supervisor appends `--run NAME` (e.g. `tools/sandbox run ... -- build/grade/06_gather`). This program
 * is built from the course's sources alone: no code of the learner's ever runs in it.
 */
#include "grade_supervise.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** Read the tests FILE into @p items; returns how many, or -1. */
static int read_tests(const char *path, cw_grade_item **items)
{
    FILE *from = fopen(path, "r");
    if (from == NULL) {
        perror(path);
        return -1;
    }
    int n = 0;
    char line[2048];
    *items = NULL;
    while (fgets(line, sizeof line, from) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        char *name = strtok(line, "\t"), *points = strtok(NULL, "\t"), *timeout = strtok(NULL, "\t"),
             *title = strtok(NULL, "");
        if (name == NULL || points == NULL || timeout == NULL || title == NULL) {
            fprintf(stderr, "grade_supervisor: %s: a line is not NAME<TAB>POINTS<TAB>TIMEOUT<TAB>TITLE\n", path);
            fclose(from);
            return -1;
        }
        cw_grade_item *grown = realloc(*items, (size_t)(n + 1) * sizeof *grown);
        char *name_copy = strdup(name), *title_copy = strdup(title);
        if (grown == NULL || name_copy == NULL || title_copy == NULL) {
            fprintf(stderr, "grade_supervisor: out of memory\n");
            exit(2);
        }
        *items = grown;
        (*items)[n++] = (cw_grade_item){name_copy, title_copy, atoi(points), strtod(timeout, NULL)};
    }
    fclose(from);
    return n;
}

int main(int argc, char **argv)
{
    cw_grade_plan plan = {0};
    const char *tests_path = NULL;
    int k = 1;
    for (; k < argc; k++) {
        if (strcmp(argv[k], "--") == 0) {
            k++;
            break;
        }
        if (strcmp(argv[k], "--chapter") == 0 && k + 1 < argc)
            plan.chapter = argv[++k];
        else if (strcmp(argv[k], "--tests") == 0 && k + 1 < argc)
            tests_path = argv[++k];
        else if (strcmp(argv[k], "--json") == 0 && k + 1 < argc)
            plan.json_path = argv[++k];
        else if (strcmp(argv[k], "--only") == 0 && k + 1 < argc)
            plan.only = argv[++k];
        else if (strcmp(argv[k], "--program") == 0 && k + 1 < argc)
            plan.program = argv[++k];
        else if (strcmp(argv[k], "--expect-fail") == 0)
            plan.expect_fail = true;
        else if (strcmp(argv[k], "--quiet-output") == 0)
            plan.quiet_output = true;
        else
            break;
    }
    if (plan.chapter == NULL || tests_path == NULL || k >= argc) {
        fprintf(stderr, "usage: grade_supervisor --chapter CH --tests FILE [--json FILE] [--only NAME] "
                        "[--expect-fail] [--program GRADER] [--quiet-output] -- RUNNER...\n");
        return 2;
    }
    cw_grade_item *items;
    plan.n = read_tests(tests_path, &items);
    if (plan.n < 0)
        return 2;
    plan.tests = items;
    plan.runner = argv + k;
    if (plan.program == NULL)
        plan.program = argv[argc - 1];
    return cw_grade_supervise(&plan);
}
