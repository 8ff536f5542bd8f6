/* Minimal streaming JSON writer for the probe; see probe.h. */
#include <stdio.h>
#include <string.h>

#include "probe.h"

#define MAX_DEPTH 32

/* need_comma[d] is true once level d has emitted an element. after_key
 * suppresses the comma for a value that directly follows its key. */
static int need_comma[MAX_DEPTH];
static int depth;
static int after_key;

static void separator(void) {
  if (after_key) {
    after_key = 0;
    return;
  }
  if (depth > 0 && need_comma[depth]) putchar(',');
  if (depth > 0) need_comma[depth] = 1;
}

static void open_level(char c) {
  separator();
  putchar(c);
  if (depth + 1 < MAX_DEPTH) depth++;
  need_comma[depth] = 0;
}

static void close_level(char c) {
  putchar(c);
  if (depth > 0) depth--;
}

void json_begin_object(void) { open_level('{'); }
void json_end_object(void) { close_level('}'); }
void json_begin_array(void) { open_level('['); }
void json_end_array(void) { close_level(']'); }

static void write_escaped(const char* s, size_t n) {
  putchar('"');
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    switch (c) {
      case '"':
        fputs("\\\"", stdout);
        break;
      case '\\':
        fputs("\\\\", stdout);
        break;
      case '\n':
        fputs("\\n", stdout);
        break;
      case '\r':
        fputs("\\r", stdout);
        break;
      case '\t':
        fputs("\\t", stdout);
        break;
      default:
        /* Control bytes and non-ASCII bytes are escaped individually so the
         * output is valid JSON even for binary file contents. */
        if (c < 0x20 || c >= 0x7f) {
          printf("\\u%04x", c);
        } else {
          putchar(c);
        }
    }
  }
  putchar('"');
}

void json_key(const char* key) {
  separator();
  write_escaped(key, strlen(key));
  putchar(':');
  after_key = 1;
}

void json_string_n(const char* value, size_t len) {
  separator();
  write_escaped(value, len);
}

void json_string(const char* value) {
  if (value == NULL) {
    json_null();
    return;
  }
  json_string_n(value, strlen(value));
}

void json_int(long long value) {
  separator();
  printf("%lld", value);
}

void json_bool(int value) {
  separator();
  fputs(value ? "true" : "false", stdout);
}

void json_null(void) {
  separator();
  fputs("null", stdout);
}

void json_finish(void) {
  putchar('\n');
  fflush(stdout);
}

void json_kv_string(const char* key, const char* value) {
  json_key(key);
  json_string(value);
}

void json_kv_int(const char* key, long long value) {
  json_key(key);
  json_int(value);
}

void json_kv_bool(const char* key, int value) {
  json_key(key);
  json_bool(value);
}
