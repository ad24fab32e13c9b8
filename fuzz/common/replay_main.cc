// replay_main.cc: main() for a fuzz target built without libFuzzer (the
// main build's tests/fuzz_replay): runs every file named, and every file in
// every directory named, through LLVMFuzzerTestOneInput once, in name
// order. A missing directory is skipped; no input at all is an error. A
// crash is the sanitizers' or CHECK's abort, naming the file on stderr.
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "common/fuzz.h"
#include "io.h"

namespace {

std::vector<std::string> files_of(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return {};
  if (!S_ISDIR(st.st_mode)) return {path};
  std::vector<std::string> out;
  DIR* d = ::opendir(path.c_str());
  if (!d) return {};
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.empty() || name[0] == '.') continue;
    std::string full = path + "/" + name;
    if (::stat(full.c_str(), &st) == 0 && S_ISREG(st.st_mode)) out.push_back(full);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

bool read_all(const std::string& path, std::string& out) {
  auto fd = qng::open_read(path);
  if (!fd) return false;
  qng::Reader in(fd->get());
  char buf[8192];
  out.clear();
  for (;;) {
    auto n = in.read(buf, sizeof buf);
    if (!n) return false;
    if (*n == 0) return true;
    out.append(buf, *n);
  }
}

}  // namespace

int main(int argc, char** argv) {
  size_t runs = 0;
  for (int i = 1; i < argc; ++i) {
    for (const auto& f : files_of(argv[i])) {
      std::string data;
      if (!read_all(f, data)) {
        std::fprintf(stderr, "replay: unable to read %s\n", f.c_str());
        return 1;
      }
      std::fprintf(stderr, "replay: %s\n", f.c_str());
      LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(data.data()), data.size());
      ++runs;
    }
  }
  if (runs == 0) {
    std::fprintf(stderr, "replay: no inputs found\n");
    return 1;
  }
  std::printf("replayed %zu inputs\n", runs);
  return 0;
}
