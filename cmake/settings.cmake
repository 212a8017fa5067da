# Private build settings shared by the project's own targets: warnings and
# sanitizers. Linked PRIVATE (or via $<BUILD_INTERFACE>), never exported.
add_library(dftracer_settings INTERFACE)
add_library(dftracer::settings ALIAS dftracer_settings)

if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(dftracer_settings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wno-missing-field-initializers)
  if(DFTRACER_WARNINGS_AS_ERRORS)
    target_compile_options(dftracer_settings INTERFACE -Werror)
  endif()
  if(DFTRACER_SANITIZE)
    target_compile_options(dftracer_settings INTERFACE -fsanitize=${DFTRACER_SANITIZE} -fno-omit-frame-pointer -g)
    target_link_options(dftracer_settings INTERFACE -fsanitize=${DFTRACER_SANITIZE})
  endif()
elseif(MSVC)
  target_compile_options(dftracer_settings INTERFACE /W4)
endif()
