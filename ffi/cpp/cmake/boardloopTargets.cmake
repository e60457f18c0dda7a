# Defines the imported targets boardloop::boardloop (libBoardController.so)
# and boardloop::boardloop_static (libBoardController.a) over prebuilt Rust
# libraries. Shared by the build tree (CMakeLists.txt) and the installed
# boardloopConfig.cmake, which set before including this file:
#   _boardloop_lib_dir       directory holding libBoardController.{so,a}
#   _boardloop_include_dirs  directories holding boardloop/*.h{,pp}

if(NOT TARGET Threads::Threads)
  find_package(Threads REQUIRED)
endif()

if(NOT TARGET boardloop::boardloop)
  add_library(boardloop::boardloop SHARED IMPORTED)
  set_target_properties(boardloop::boardloop PROPERTIES
    IMPORTED_LOCATION "${_boardloop_lib_dir}/libBoardController.so"
    # Rust cdylibs carry no SONAME: without this, the linker would record the
    # absolute build path as DT_NEEDED instead of libBoardController.so.
    IMPORTED_NO_SONAME TRUE
    INTERFACE_INCLUDE_DIRECTORIES "${_boardloop_include_dirs}"
    INTERFACE_COMPILE_FEATURES cxx_std_17)
endif()

if(NOT TARGET boardloop::boardloop_static)
  add_library(boardloop::boardloop_static STATIC IMPORTED)
  set_target_properties(boardloop::boardloop_static PROPERTIES
    IMPORTED_LOCATION "${_boardloop_lib_dir}/libBoardController.a"
    INTERFACE_INCLUDE_DIRECTORIES "${_boardloop_include_dirs}"
    INTERFACE_COMPILE_FEATURES cxx_std_17
    # A Rust staticlib bundles std but not the system libraries it calls
    # (the same set ci/c-smoke.sh links).
    INTERFACE_LINK_LIBRARIES "Threads::Threads;${CMAKE_DL_LIBS};m")
endif()
