/* berth-probe: a static test binary that reports what a container sees.
 *
 * It runs as the process inside containers created by the integration tests and
 * prints one JSON object on stdout. It uses only libc so it works in a rootfs that
 * holds nothing but busybox and this binary. Output is produced by the tiny JSON
 * writer below, which only ever serialises the probe's own data. */
#pragma once

#include <stddef.h>

/* ---- JSON writer (json.c) ------------------------------------------------ */
/* A streaming writer on stdout that tracks whether a comma is needed at each
 * nesting level. Keys and string values are escaped per RFC 8259. */
void json_begin_object(void);
void json_end_object(void);
void json_begin_array(void);
void json_end_array(void);
void json_key(const char* key);
void json_string(const char* value);
void json_string_n(const char* value, size_t len);
void json_int(long long value);
void json_bool(int value);
void json_null(void);
/* Ends the document with a newline and flushes stdout. */
void json_finish(void);

/* key + value shorthands */
void json_kv_string(const char* key, const char* value);
void json_kv_int(const char* key, long long value);
void json_kv_bool(const char* key, int value);

/* ---- helpers (commands.c) ------------------------------------------------ */
/* Symbolic name of an errno value ("ENOENT"), or "E<number>" if unknown. */
const char* errno_name(int err);
/* Symbolic name of a signal ("SIGTERM"), or "SIG<number>" if unknown. */
const char* signal_name(int sig);
/* Reads a whole file into a malloc'ed, NUL-terminated buffer. Returns NULL and
 * sets errno on failure; *len receives the byte count. */
char* slurp(const char* path, size_t* len);

/* ---- reports -------------------------------------------------------------- */
/* `probe all [SYSCTL...]`: the full report (info.c). */
int cmd_all(int argc, char** argv);
/* The small sub-commands (commands.c). Each returns the process exit code. */
int cmd_sleep(int argc, char** argv);
int cmd_exit(int argc, char** argv);
int cmd_readfile(int argc, char** argv);
int cmd_writefile(int argc, char** argv);
int cmd_open(int argc, char** argv);
int cmd_syscall(int argc, char** argv);
int cmd_ls(int argc, char** argv);
int cmd_stat(int argc, char** argv);
int cmd_signal_wait(int argc, char** argv);
int cmd_forks(int argc, char** argv);
