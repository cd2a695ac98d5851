# The course's website (tools/site/, ./course docs). Label "site".
#
#   site.build    builds build/site/ from docs/ and the README (tools/site/build_site.py, which fails
#                 if a page links to a page that does not exist or loads anything from another host)
#   site.browser  opens every page of it in headless Chromium (tools/site/browser_test.py): console
#                 errors, images, links and anchors, math typeset, Chinese text in a CJK font, search;
#                 screenshots in build/site-shots/. Skipped (exit 77) when chromium is not installed:
#                 ./course setup does not install it, CI does (.ci/run).
# Not in the sanitizer build: no C++ runs here, and the browser test takes a minute or two.
if(NOT COURSE_SANITIZE)
  add_test(NAME site.build
           COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tools/site/build_site.py
                   --root ${PROJECT_SOURCE_DIR} --out ${CMAKE_BINARY_DIR}/site)
  add_test(NAME site.browser
           COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tools/site/browser_test.py
                   --site ${CMAKE_BINARY_DIR}/site --shots ${CMAKE_BINARY_DIR}/site-shots)
  set_tests_properties(site.build PROPERTIES LABELS "site" FIXTURES_SETUP course_site TIMEOUT 120)
  set_tests_properties(site.browser PROPERTIES LABELS "site" FIXTURES_REQUIRED course_site
                                               SKIP_RETURN_CODE 77 TIMEOUT 600)
endif()
