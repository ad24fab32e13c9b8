# targets.cmake: the fuzz targets, shared by the libFuzzer build
# (fuzz/CMakeLists.txt) and the replay programs of the main build
# (tests/fuzz_replay/CMakeLists.txt). A target NAME is fuzz/targets/NAME.cc;
# its seeds are fuzz/corpus/NAME/, its past crashes fuzz/regressions/NAME/.
#
# To add one: write targets/NAME.cc, add NAME below with the libraries it
# needs (and the program folders whose private headers it includes), and
# put a few seed files in corpus/NAME/.

set(QNG_FUZZ_TARGETS
  address netstring cdb assign tcprules control spawn dkim qmtp
  inject_tokens inject_message dotqmail send_dsn smtpd remote pop3 stats)

# Libraries to link, after the library qng.
set(QNG_FUZZ_inject_tokens_LIBS  qmail-inject-logic)
set(QNG_FUZZ_inject_message_LIBS qmail-inject-logic)
set(QNG_FUZZ_dotqmail_LIBS       qmail-local-logic)
set(QNG_FUZZ_send_dsn_LIBS       qmail-send-logic)
set(QNG_FUZZ_smtpd_LIBS          qmail-smtpd-logic)
set(QNG_FUZZ_remote_LIBS         qmail-remote-logic qmail-smtpd-logic)
set(QNG_FUZZ_pop3_LIBS           qmail-pop3d-logic)
set(QNG_FUZZ_stats_LIBS          qmail-stats-logic)

# Program folders (src/bin/*) whose headers a target includes.
set(QNG_FUZZ_inject_tokens_DIRS  qmail-inject)
set(QNG_FUZZ_inject_message_DIRS qmail-inject)
set(QNG_FUZZ_dotqmail_DIRS       qmail-local)
set(QNG_FUZZ_send_dsn_DIRS       qmail-send)
set(QNG_FUZZ_smtpd_DIRS          qmail-smtpd)
set(QNG_FUZZ_remote_DIRS         qmail-remote qmail-smtpd)
set(QNG_FUZZ_pop3_DIRS           qmail-pop3d)
set(QNG_FUZZ_stats_DIRS          qmail-stats)

# The program folders any target needs, for a build that adds only those.
set(QNG_FUZZ_PROGRAM_DIRS qmail-inject qmail-local qmail-send qmail-smtpd qmail-remote
    qmail-pop3d qmail-stats)

# Compiles fuzz/targets/NAME.cc (and any extra sources) into target `tgt`.
function(qng_fuzz_target tgt name root)
  add_executable(${tgt} ${root}/fuzz/targets/${name}.cc ${ARGN})
  target_include_directories(${tgt} PRIVATE ${root}/fuzz)
  foreach(dir ${QNG_FUZZ_${name}_DIRS})
    target_include_directories(${tgt} PRIVATE ${root}/src/bin/${dir})
  endforeach()
  target_link_libraries(${tgt} PRIVATE ${QNG_FUZZ_${name}_LIBS} qng)
endfunction()
