// fuzz.h: what every fuzz target shares: the entry point's declaration, an
// in-memory descriptor for code that reads through an Fd or a Reader, a
// private scratch directory, a cursor that splits the input into the
// arguments of a call, and CHECK for properties the headers promise.
//
// The targets compile twice: with clang and libFuzzer (fuzz/CMakeLists.txt)
// and with the main build's g++ as replay programs (tests/fuzz_replay), so
// they keep to the project's warnings and use nothing of clang's.
#pragma once

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fd.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

// A property the code under test promises was broken: report and abort, so
// that libFuzzer keeps the input as a crash.
#define QNG_FUZZ_CHECK(cond)                                                        \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

namespace qng::fuzz {

inline std::string_view as_view(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// A descriptor holding `bytes` at offset 0 (a memfd: nothing on disk).
inline Fd memory_fd(std::string_view bytes) {
  Fd fd(::memfd_create("qng-fuzz", MFD_CLOEXEC));
  if (!fd) std::abort();
  if (!write_all(fd.get(), bytes)) std::abort();
  if (::lseek(fd.get(), 0, SEEK_SET) != 0) std::abort();
  return fd;
}

// This process's scratch directory, made on first use under $TMPDIR (else
// /dev/shm when it exists, else /tmp) and removed at exit. Targets write
// only here.
inline const std::string& scratch_dir() {
  static const std::string dir = [] {
    const char* base = std::getenv("TMPDIR");
    std::string b = base && *base ? base : "";
    struct stat st;
    if (b.empty()) b = ::stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";
    std::string tmpl = b + "/qng-fuzz.XXXXXX";
    if (!::mkdtemp(tmpl.data())) std::abort();
    static std::string made;
    made = tmpl;
    std::atexit([] {
      std::string cmd = "rm -rf '" + made + "'";
      if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "cannot remove %s\n", made.c_str());
    });
    return tmpl;
  }();
  return dir;
}

// Takes the input apart from the front: single bytes for choices, and
// strings up to a separator byte, so that a seed file stays readable (for
// example: fields on lines of their own).
class Cursor {
 public:
  explicit Cursor(std::string_view in) : in_(in) {}

  bool empty() const { return in_.empty(); }
  std::string_view rest() const { return in_; }

  // The next byte, 0 when none is left.
  uint8_t byte() {
    if (in_.empty()) return 0;
    uint8_t b = static_cast<uint8_t>(in_.front());
    in_.remove_prefix(1);
    return b;
  }

  // Up to the next `sep` (dropped), or everything that is left.
  std::string_view until(char sep) {
    size_t at = in_.find(sep);
    std::string_view s = in_.substr(0, at);
    in_.remove_prefix(at == std::string_view::npos ? in_.size() : at + 1);
    return s;
  }

 private:
  std::string_view in_;
};

// Splits s into pieces whose sizes come from `sizes` (each byte + 1, cycled),
// for code that must give the same result however its input is cut.
template <class Fn>
void in_pieces(std::string_view s, std::string_view sizes, Fn fn) {
  size_t i = 0;
  while (!s.empty()) {
    size_t n = sizes.empty() ? 1 : static_cast<uint8_t>(sizes[i++ % sizes.size()]) + 1u;
    if (n > s.size()) n = s.size();
    fn(s.substr(0, n));
    s.remove_prefix(n);
  }
}

}  // namespace qng::fuzz
