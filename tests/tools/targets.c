/* targets.c - prints the SIMD targets this CPU and build run, for the test runner. */
#include <stdio.h>

#include "loom.h"

int main(void) {
  char buf[256];
  loom_simd_available(buf, sizeof buf);
  puts(buf);
  return 0;
}
