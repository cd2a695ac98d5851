# course_chapter(NN slug DEPENDS <earlier chapter numbers> [LIBS <extra libraries for the program>])
#
# Registers one chapter:
#   solution_NN   the reference functions (solutions/NN_slug/*.cpp)
#   exercise_NN   the student's functions (exercises/NN_slug/*.cpp); earlier chapters come from
#                 the reference, so each exercise is graded on its own
#   chNN_slug     the chapter program (chapters/NN_slug/main.cpp), built on the reference, or on
#                 every exercise_NN when COURSE_USE_EXERCISES is ON
#   test_NN_reference / test_NN_exercise
#                 tests/test_NN_slug.cpp linked against each implementation
# and the CTest tests of the chapter, all labelled chNN.
#
# Given code: given/NN_slug/*.cpp, declared in common/given/NN_slug.hpp, is code the course gives
# (helpers built on the exercises' functions, e.g. linear() on chapter 01's matmul). It is compiled
# once (the object library given_NN) into both solution_NN and exercise_NN, so it calls whichever
# implementation it is linked with.
#
# A chapter still being written is registered with DRAFT: only its reference library is built (later
# chapters may depend on it), and it has no program, no tests and no place in the course runner.
function(course_chapter nn slug)
  cmake_parse_arguments(ARG "DRAFT" "" "DEPENDS;LIBS" ${ARGN})
  set(name ${nn}_${slug})
  set(solution_deps "")
  foreach(dep IN LISTS ARG_DEPENDS)
    list(APPEND solution_deps solution_${dep})
  endforeach()
  # 0. the chapter's given code, if it has any
  file(GLOB given_sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/given/${name}/*.cpp)
  if(given_sources)
    add_library(given_${nn} OBJECT ${given_sources})
    target_link_libraries(given_${nn} PUBLIC course_common ${solution_deps})
    course_use_pch(given_${nn})
  endif()
  if(ARG_DRAFT)
    file(GLOB solution_sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/solutions/${name}/*.cpp)
    add_library(solution_${nn} STATIC ${solution_sources})
    target_link_libraries(solution_${nn} PUBLIC course_common ${solution_deps})
    course_use_pch(solution_${nn})
    if(given_sources)
      target_sources(solution_${nn} PRIVATE $<TARGET_OBJECTS:given_${nn}>)
    endif()
    return()
  endif()

  # 1. the two implementations of the chapter's contract (common/contracts/NN_slug.hpp)
  file(GLOB solution_sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/solutions/${name}/*.cpp)
  file(GLOB exercise_sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/exercises/${name}/*.cpp)
  add_library(solution_${nn} STATIC ${solution_sources})
  add_library(exercise_${nn} STATIC ${exercise_sources})
  foreach(impl solution_${nn} exercise_${nn})
    target_link_libraries(${impl} PUBLIC course_common ${solution_deps})
    course_use_pch(${impl})
    if(given_sources)
      target_sources(${impl} PRIVATE $<TARGET_OBJECTS:given_${nn}>)
    endif()
  endforeach()
  # A stub shows only the signature, the TODO steps and the not_implemented throw: its parameters are
  # unused until the student writes the body. (A warning flag: the shared precompiled header still fits.)
  target_compile_options(exercise_${nn} PRIVATE -Wno-unused-parameter)

  # 2. the chapter program
  add_executable(ch${name} ${PROJECT_SOURCE_DIR}/chapters/${name}/main.cpp)
  course_use_pch(ch${name})
  if(COURSE_USE_EXERCISES)
    set(program_impls exercise_${nn})
    foreach(dep IN LISTS ARG_DEPENDS)
      list(APPEND program_impls exercise_${dep})
    endforeach()
    # The student's libraries each pull in earlier reference libraries; list theirs first so the
    # linker takes the student's definitions.
    target_link_libraries(ch${name} PRIVATE ${program_impls} course_common)
  else()
    target_link_libraries(ch${name} PRIVATE solution_${nn} course_common)
  endif()
  target_link_libraries(ch${name} PRIVATE ${ARG_LIBS})

  # 3. the tests: one object file, linked twice
  add_library(test_${nn}_objects OBJECT ${PROJECT_SOURCE_DIR}/tests/test_${name}.cpp)
  target_link_libraries(test_${nn}_objects PUBLIC course_common doctest::doctest)
  target_compile_definitions(test_${nn}_objects PRIVATE
    COURSE_FIXTURES_DIR="${PROJECT_SOURCE_DIR}/tests/fixtures")
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
  add_test(NAME ch${nn}.docs_output
           COMMAND bash ${PROJECT_SOURCE_DIR}/tools/docs_output.sh check
                   ${PROJECT_SOURCE_DIR}/docs/${nn}-${slug}.md $<TARGET_FILE_DIR:ch${name}>)
  add_test(NAME ch${nn}.docs_figures
           COMMAND bash ${PROJECT_SOURCE_DIR}/tools/docs_figures.sh check
                   $<TARGET_FILE:ch${name}> ${PROJECT_SOURCE_DIR}/docs/figures ${nn})
  set_tests_properties(ch${nn}.docs_output ch${nn}.docs_figures PROPERTIES LABELS "ch${nn};docs")
  # When the programs run the student's code their output is the student's, not the docs'.
  if(COURSE_USE_EXERCISES)
    set_tests_properties(ch${nn}.docs_output ch${nn}.docs_figures PROPERTIES DISABLED TRUE)
  endif()

  set_property(GLOBAL APPEND PROPERTY COURSE_CHAPTERS ${name})
endfunction()
