// doctest's main(), built once and linked into every test program. It sets OpenBLAS to one thread
// first (common/linalg.hpp), as run_program does for the programs: a test that compares two runs bit
// for bit sees the same sums in the same order.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

// Declared in common/linalg.hpp; only this declaration here, so that this file stays free of xtensor's
// headers and compiles in a moment.
namespace course {
void use_one_blas_thread();
}

// The reporter `./course check` reads (--reporters=course-xml): doctest's XML reporter, plus what a
// test case had logged (CAPTURE, INFO) when it ended with an exception or a crash, as <Info> elements
// after the <Exception>. doctest's console shows those lines; its XML reporter leaves them out.
namespace doctest {
struct CourseXmlReporter : XmlReporter {
  using XmlReporter::XmlReporter;
  void test_case_exception(const TestCaseException& e) override {
    XmlReporter::test_case_exception(e);
    const String* logged = get_stringified_contexts();
    for (int i = get_num_stringified_contexts(); i > 0; --i) {
      xml.scopedElement("Info").writeText(logged[i - 1].c_str());  // outermost first, as the console
    }
  }
};
REGISTER_REPORTER("course-xml", 0, CourseXmlReporter);
}  // namespace doctest

int main(int argc, char** argv) {
  course::use_one_blas_thread();
  return doctest::Context(argc, argv).run();
}

// In the sanitizer builds (COURSE_SANITIZE: build-sanitize/, and build-check-asan/ where
// `./course check` traces a crash to its line) doctest leaves the crash signals to AddressSanitizer,
// whose report names the line (DOCTEST_CONFIG_NO_POSIX_SIGNALS, set in common/CMakeLists.txt).
//
// There, with COURSE_TRACE_OUT_OF_RANGE=1 in the environment, an index out of range caught by
// xtensor's bounds check (XTENSOR_ENABLE_ASSERT throws std::out_of_range from deep inside xtensor)
// also prints the stack at the moment it is thrown, so `./course check` can show the student's line:
// the exception itself carries only xtensor's own file and line.
//
// With COURSE_TRACE_EXCEPTIONS=1, every std::exception thrown prints its message and the stack, so that
// `./course check` can name the student's line that called a course helper with wrong shapes (a
// `matmul` with four calls in one function): the runner keeps the last one, the exception that ended
// the test case.
#if defined(COURSE_TRACE_THROWS)
#include <sanitizer/common_interface_defs.h>

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <typeinfo>

// Our __cxa_throw runs first for every `throw` in the program; it hands over to the C++ runtime's.
// (The second parameter is a std::type_info*; GCC declares the function itself with void*.)
namespace {
// The message of a thrown object of one of the standard exception types the course throws, or nullptr.
const char* message_of(void* thrown, const std::type_info& type) {
  if (type == typeid(std::invalid_argument)) return static_cast<std::invalid_argument*>(thrown)->what();
  if (type == typeid(std::out_of_range)) return static_cast<std::out_of_range*>(thrown)->what();
  if (type == typeid(std::domain_error)) return static_cast<std::domain_error*>(thrown)->what();
  if (type == typeid(std::length_error)) return static_cast<std::length_error*>(thrown)->what();
  if (type == typeid(std::logic_error)) return static_cast<std::logic_error*>(thrown)->what();
  if (type == typeid(std::runtime_error)) return static_cast<std::runtime_error*>(thrown)->what();
  return nullptr;
}
}  // namespace

extern "C" void __cxa_throw(void* thrown, void* type, void (*destroy)(void*)) {
  static const bool trace = std::getenv("COURSE_TRACE_OUT_OF_RANGE") != nullptr;
  static const bool trace_all = std::getenv("COURSE_TRACE_EXCEPTIONS") != nullptr;
  static bool traced = false;
  const std::type_info& thrown_type = *static_cast<const std::type_info*>(type);
  if (trace && !traced && thrown_type == typeid(std::out_of_range)) {
    traced = true;  // the first one is where it went wrong
    std::fprintf(stderr, "course: index out of bounds: %s\n",
                 static_cast<std::out_of_range*>(thrown)->what());
    __sanitizer_print_stack_trace();
  } else if (trace_all) {
    const char* message = message_of(thrown, thrown_type);
    if (message != nullptr) {
      std::fprintf(stderr, "course: exception thrown: %s\n", message);
      __sanitizer_print_stack_trace();
    }
  }
  using throw_function = void (*)(void*, void*, void (*)(void*));
  static const auto next = reinterpret_cast<throw_function>(dlsym(RTLD_NEXT, "__cxa_throw"));
  next(thrown, type, destroy);
  std::abort();  // not reached: __cxa_throw does not return
}
#endif
