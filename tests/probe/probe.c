/* berth-probe entry point: dispatches on argv[1]; see probe.h. */
#include <stdio.h>
#include <string.h>

#include "probe.h"

static const struct {
  const char* name;
  int (*run)(int argc, char** argv);
} kCommands[] = {
    {"all", cmd_all},
    {"sleep", cmd_sleep},
    {"exit", cmd_exit},
    {"readfile", cmd_readfile},
    {"writefile", cmd_writefile},
    {"open", cmd_open},
    {"syscall", cmd_syscall},
    {"ls", cmd_ls},
    {"stat", cmd_stat},
    {"signal-wait", cmd_signal_wait},
    {"forks", cmd_forks},
};

int main(int argc, char** argv) {
  if (argc < 2) return cmd_all(0, NULL);
  for (size_t i = 0; i < sizeof kCommands / sizeof kCommands[0]; i++) {
    if (strcmp(argv[1], kCommands[i].name) == 0) return kCommands[i].run(argc - 2, argv + 2);
  }
  fprintf(stderr,
          "usage: probe [all [SYSCTL...] | sleep N | exit N | readfile PATH |\n"
          "              writefile PATH DATA | open PATH [r|w] | syscall NAME [ARG] | ls PATH | "
          "stat PATH |\n"
          "              signal-wait | forks N]\n");
  return 64;
}
