// failure.h: how a program lists the ways it can fail, near its top.
//
//   constexpr Failure kNoMem {111, "Out of memory. (#4.3.0)"};
//
// The library never exits or prints; a program maps an Error to one of its
// Failures and reports it in the form its caller reads (exit code, SMTP reply,
// K/Z/D report).
#pragma once

namespace qng {

struct Failure {
  int code;          // exit code: 0 ok, 100 permanent, 111 temporary, ...
  const char* text;  // the line the caller reads
};

constexpr int kExitOk = 0;
constexpr int kExitPerm = 100;
constexpr int kExitTemp = 111;

}  // namespace qng
