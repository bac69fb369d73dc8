# Warnings live on an interface target linked PRIVATE by our own code only; generated protobuf-c
# code does not get them.
add_library(fl_warnings INTERFACE)
target_compile_options(fl_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
  -Wpointer-arith -Wwrite-strings -Wformat=2 -Wundef -Wvla)
if(FL_WERROR)
  target_compile_options(fl_warnings INTERFACE -Werror)
endif()
if(NOT FL_SANITIZER STREQUAL "none")
  add_compile_options(-fsanitize=${FL_SANITIZER} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${FL_SANITIZER})
endif()
