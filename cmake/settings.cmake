# Private build settings shared by the project's own targets: warnings and
# sanitizers. Linked PRIVATE (or via $<BUILD_INTERFACE>), never exported.
# dftracer::sanitize is the sanitizers alone, for targets whose headers
# from elsewhere do not build cleanly with the warnings (the bindings).
add_library(dftracer_settings INTERFACE)
add_library(dftracer::settings ALIAS dftracer_settings)
add_library(dftracer_sanitize INTERFACE)
add_library(dftracer::sanitize ALIAS dftracer_sanitize)
target_link_libraries(dftracer_settings INTERFACE dftracer_sanitize)

if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(dftracer_settings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wno-missing-field-initializers)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC 12's -Wrestrict misfires on std::string concatenation at -O3
    # (GCC bug 105329); it finds nothing real in this code base.
    target_compile_options(dftracer_settings INTERFACE -Wno-restrict)
  endif()
  if(DFTRACER_WARNINGS_AS_ERRORS)
    target_compile_options(dftracer_settings INTERFACE -Werror)
  endif()
  if(DFTRACER_SANITIZE)
    target_compile_options(dftracer_sanitize INTERFACE -fsanitize=${DFTRACER_SANITIZE} -fno-omit-frame-pointer -g)
    target_link_options(dftracer_sanitize INTERFACE -fsanitize=${DFTRACER_SANITIZE})
  endif()
elseif(MSVC)
  target_compile_options(dftracer_settings INTERFACE /W4)
endif()
