# course_chapter(NN slug DEPENDS <earlier chapter numbers> [LIBS <extra libraries for the program>])
#
# Registers one chapter:
#   solution_NN   the reference functions (chapters/NN_slug/solution/*.cpp)
#   exercise_NN   the student's functions (exercises/NN_slug/*.cpp); earlier chapters come from
#                 the reference, so each exercise is graded on its own
#   chNN_slug     the chapter program (chapters/NN_slug/main.cpp), built on the reference; with
#                 COURSE_USE_EXERCISES ON, on the student's code for the exercises listed in
#                 COURSE_EXERCISES_DONE and on the reference for the others (see below)
#   test_NN_reference / test_NN_exercise
#                 chapters/NN_slug/test*.cpp linked against each implementation
# and the CTest tests of the chapter, all labelled chNN.
#
# Given code: chapters/NN_slug/given/*.cpp, declared in chapters/NN_slug/given.hpp, is code the course gives
# (helpers built on the exercises' functions, e.g. linear() on chapter 01's matmul). It is compiled
# once (the object library given_NN) into both solution_NN and exercise_NN, so it calls whichever
# implementation it is linked with.
#
# The calls come from chapters.toml, through tools/chapters.py (CMakeLists.txt). DEPENDS lists the
# chapters whose functions this one calls directly (whose contract or given header it includes); the
# chapters they call in turn are found here (COURSE_CHAIN_NN), so the program's choice of code covers
# every chapter it links, and the libraries bring their own dependencies. Code under chapters/NN_slug/
# includes another chapter's header as "MM_slug/contract.hpp"; only chapter targets see chapters/
# (course_chapter_headers), so common/ cannot include a chapter. LONG_RUN: the page has a block whose
# command has --full, checked by chNN.docs_full (step 5).

set(COURSE_EXERCISES_DONE "" CACHE STRING
    "With COURSE_USE_EXERCISES: the exercises whose tests pass (./course passes them), e.g. 01;02")

function(course_chapter nn slug)
  cmake_parse_arguments(ARG "LONG_RUN" "" "DEPENDS;LIBS" ${ARGN})
  set(name ${nn}_${slug})
  set(dir ${PROJECT_SOURCE_DIR}/chapters/${name})
  # Every chapter this one needs, directly or through another: its chain.
  set(chain "")
  foreach(dep IN LISTS ARG_DEPENDS)
    get_property(dep_chain GLOBAL PROPERTY COURSE_CHAIN_${dep})
    list(APPEND chain ${dep_chain} ${dep})
  endforeach()
  list(REMOVE_DUPLICATES chain)
  list(SORT chain)
  set_property(GLOBAL PROPERTY COURSE_CHAIN_${nn} ${chain})
  set(solution_deps "")
  foreach(dep IN LISTS ARG_DEPENDS)
    list(APPEND solution_deps solution_${dep})
  endforeach()
  # 0. the chapter's given code, if it has any
  file(GLOB given_sources CONFIGURE_DEPENDS ${dir}/given/*.cpp)
  if(given_sources)
    add_library(given_${nn} OBJECT ${given_sources})
    target_link_libraries(given_${nn} PUBLIC course_common course_chapter_headers ${solution_deps})
    course_use_pch(given_${nn})
  endif()

  # 1. the two implementations of the chapter's contract (chapters/NN_slug/contract.hpp)
  file(GLOB solution_sources CONFIGURE_DEPENDS ${dir}/solution/*.cpp)
  file(GLOB exercise_sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/exercises/${name}/*.cpp)
  add_library(solution_${nn} STATIC ${solution_sources})
  add_library(exercise_${nn} STATIC ${exercise_sources})
  foreach(impl solution_${nn} exercise_${nn})
    # LIBS (chapters.toml's libs) are the given code's too: the tests and later chapters link them
    target_link_libraries(${impl} PUBLIC course_common course_chapter_headers ${solution_deps} ${ARG_LIBS})
    course_use_pch(${impl})
    if(given_sources)
      target_sources(${impl} PRIVATE $<TARGET_OBJECTS:given_${nn}>)
    endif()
  endforeach()
  # A stub shows only the signature, the TODO steps and the not_implemented throw: its parameters are
  # unused until the student writes the body. (A warning flag: the shared precompiled header still fits.)
  target_compile_options(exercise_${nn} PRIVATE -Wno-unused-parameter)

  # 2. the chapter program
  add_executable(ch${name} ${dir}/main.cpp)
  course_use_pch(ch${name})
  if(COURSE_USE_EXERCISES)
    set(linked ${chain} ${nn})
    course_link_student_code(ch${name} "${linked}")
  else()
    target_link_libraries(ch${name} PRIVATE solution_${nn} course_common)
  endif()
  target_link_libraries(ch${name} PRIVATE course_chapter_headers ${ARG_LIBS})

  # 3. the tests: one object file, linked twice
  add_library(test_${nn}_objects OBJECT ${dir}/test.cpp)
  target_link_libraries(test_${nn}_objects PUBLIC course_common course_chapter_headers doctest::doctest)
  target_include_directories(test_${nn}_objects PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  target_compile_definitions(test_${nn}_objects PRIVATE COURSE_CHAPTERS_DIR="${PROJECT_SOURCE_DIR}/chapters")
  course_use_pch(test_${nn}_objects)
  foreach(kind reference exercise)
    if(kind STREQUAL "reference")
      set(impl solution_${nn})
    else()
      set(impl exercise_${nn})
    endif()
    add_executable(test_${nn}_${kind} $<TARGET_OBJECTS:test_${nn}_objects>)
    target_link_libraries(test_${nn}_${kind} PRIVATE ${impl} course_test_main doctest::doctest)
  endforeach()

  # 4. CTest: the reference passes; every test case fails against the untouched stub
  add_test(NAME ch${nn}.reference COMMAND test_${nn}_reference)
  add_test(NAME ch${nn}.stubs_fail
           COMMAND bash ${PROJECT_SOURCE_DIR}/tools/check_stubs_fail.sh
                   $<TARGET_FILE:test_${nn}_exercise> ${PROJECT_SOURCE_DIR} ${name})
  set_tests_properties(ch${nn}.reference ch${nn}.stubs_fail PROPERTIES LABELS "ch${nn}")
  set_tests_properties(ch${nn}.stubs_fail PROPERTIES SKIP_RETURN_CODE 77)

  # 5. the docs page shows the program's real output, and its figures are the program's own
  #    (tools/docs_output.py: chNN.docs_output checks the page's short blocks, chNN.docs_figures
  #    docs/figures/NN-*.svg, chNN.docs_full the long --full blocks of a LONG_RUN chapter)
  set(page ${PROJECT_SOURCE_DIR}/docs/${nn}-${slug}.md)
  course_docs_test(${nn} docs_output ${page} --short)
  course_docs_test(${nn} docs_figures ${page} --figures)
  set_tests_properties(ch${nn}.docs_output ch${nn}.docs_figures PROPERTIES LABELS "ch${nn};docs")
  # The sanitizer build runs its programs several times slower (at -O1; at -O0, as Debug builds, 20 times:
  # chapter 16's default run took 359 s against 61 s at -O1, side by side on a loaded machine): each docs
  # command gets 10 minutes there; the long runs are not checked there (below).
  if(COURSE_SANITIZE)
    set_tests_properties(ch${nn}.docs_output PROPERTIES ENVIRONMENT "COURSE_DOCS_TIMEOUT=600")
  endif()
  # When the programs may run the student's code their output is the student's, not the docs' (and
  # they print which code they run first).
  if(COURSE_USE_EXERCISES)
    set_tests_properties(ch${nn}.docs_output ch${nn}.docs_figures PROPERTIES DISABLED TRUE)
  endif()
  # A LONG_RUN chapter's --full blocks, with their figures: minutes per chapter, so ch<NN>.docs_full
  # (labels chNN, docs, full) runs only when configured with -DCOURSE_FULL_DOCS_TESTS=ON, as .ci/run
  # does after ./course test; the sanitizer build leaves it out.
  if(ARG_LONG_RUN)
    course_docs_test(${nn} docs_full ${page} --long)
    set_tests_properties(ch${nn}.docs_full PROPERTIES LABELS "ch${nn};docs;full" TIMEOUT 900)
    if(NOT COURSE_FULL_DOCS_TESTS OR COURSE_SANITIZE OR COURSE_USE_EXERCISES)
      set_tests_properties(ch${nn}.docs_full PROPERTIES DISABLED TRUE)
    endif()
  endif()

  set_property(GLOBAL APPEND PROPERTY COURSE_CHAPTERS ${name})
endfunction()

# course_docs_test(NN TEST PAGE WHAT): the test chNN.TEST, tools/docs_output.py check PAGE WHAT on the
# programs of this build.
option(COURSE_FULL_DOCS_TESTS "Also check the docs' --full outputs (minutes)" OFF)
function(course_docs_test nn test page what)
  add_test(NAME ch${nn}.${test}
           COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tools/docs_output.py check ${page} ${what}
                   --bin ${CMAKE_RUNTIME_OUTPUT_DIRECTORY})
endfunction()

# course_link_student_code(PROGRAM CHAPTERS): links PROGRAM on the student's code (exercise_NN) for
# each of CHAPTERS listed in COURSE_EXERCISES_DONE, on the reference (solution_NN) for the others, and
# adds a generated source that prints which is which when the program starts, e.g.
#   [your code for exercises 01, 02; the reference for 04, 05 (not done yet)]
# The student's object files are linked directly, so their definitions are the ones used: the
# reference libraries that come along (solution_05 needs solution_01...) only fill in what is left.
function(course_link_student_code program chapters)
  set(mine "")
  set(reference "")
  foreach(ch IN LISTS chapters)
    if(ch IN_LIST COURSE_EXERCISES_DONE)
      list(APPEND mine ${ch})
      target_sources(${program} PRIVATE $<TARGET_OBJECTS:exercise_${ch}>)
      if(TARGET given_${ch})  # the chapter's given code, on the student's functions
        target_sources(${program} PRIVATE $<TARGET_OBJECTS:given_${ch}>)
      endif()
    else()
      list(APPEND reference ${ch})
      target_link_libraries(${program} PRIVATE solution_${ch})
    endif()
  endforeach()
  target_link_libraries(${program} PRIVATE course_common)

  string(REPLACE ";" ", " mine_text "${mine}")
  string(REPLACE ";" ", " reference_text "${reference}")
  if(mine AND reference)
    set(note "[your code for exercises ${mine_text}; the reference for ${reference_text} (not done yet)]")
  elseif(mine)
    set(note "[your code for exercises ${mine_text}]")
  else()
    set(note "[the reference for ${reference_text}: none of these exercises is done yet (./course check NN)]")
  endif()
  set(source ${CMAKE_BINARY_DIR}/generated/${program}_code.cpp)
  file(CONFIGURE OUTPUT ${source} @ONLY CONTENT [[
// Generated by course_link_student_code() in cmake/Course.cmake: which code this program runs.
#include <cstdio>

namespace {
// Printed before main() starts, so that it comes first whatever the program does.
const int printed_note = std::puts("@note@");
}  // namespace
]])
  target_sources(${program} PRIVATE ${source})
  set_source_files_properties(${source} PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
endfunction()
