// What include/wasi_compat.h redirects to: no temporary files, no shell.
#include <errno.h>
#include <stdio.h>

FILE *wippy_lua_tmpfile(void) {
  errno = ENOTSUP;
  return NULL;
}

int wippy_lua_system(const char *command) {
  if (command == NULL) return 0; /* no shell */
  errno = ENOSYS;
  return -1;
}
