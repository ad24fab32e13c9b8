// tcpto.h: qmail's table of hosts whose SMTP connections timed out.
//
// queue/lock/tcpto (IPv4) is qmail's file byte for byte: 1024 bytes = 64
// records of 16 bytes: bytes 0-3 the address, byte 4 the count of recent
// timeouts (at most 10), bytes 8-11 the time of the last one, little-endian.
// queue/lock/tcpto6 (IPv6, our addition) has the same rules with 2048 bytes
// = 64 records of 32 bytes: bytes 0-15 the address, byte 16 the count,
// bytes 24-31 the time, little-endian 64-bit. Unused bytes are zero.
//
// Rules (qmail's tcpto.c): an address with count >= 2 is skipped for
// (60 + (pid & 31)) * 64 seconds after its last timeout; timeouts less than
// 120 s apart count once; a connection that succeeds or fails without a
// timeout sets the count of a listed address to 0; a new address takes a
// free record (count 0), else the one whose time + count * 1024 is least.
// Every access holds an exclusive flock on the file. A missing or empty
// table means "nothing is known" and is not an error for qmail-remote.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ip.h"
#include "result.h"

namespace qng {

constexpr size_t kTcptoBytes = 1024;
constexpr size_t kTcpto6Bytes = 2048;

// Paths relative to QMAILHOME.
constexpr const char* kTcptoPath = "queue/lock/tcpto";
constexpr const char* kTcpto6Path = "queue/lock/tcpto6";

struct TcptoRecord {
  IpAddress ip;
  unsigned count = 0;
  uint64_t when = 0;
};

// ---- the table as bytes (pure; tested) ----

// The file path and size for an address family.
const char* tcpto_path(int family);
size_t tcpto_bytes(int family);

// Every record of a table image with count >= 1, in file order.
std::vector<TcptoRecord> tcpto_records(std::string_view table, int family);

// What the table says about ip: whether it is listed, and whether it is to
// be skipped now.
struct TcptoState {
  bool listed = false;
  bool dead = false;
};
TcptoState tcpto_state(std::string_view table, const IpAddress& ip, uint64_t now, unsigned pid);

// The change to make after a connection attempt to ip (timeout = it timed
// out): the record's index and its new bytes, or nullopt for no change.
struct TcptoWrite {
  size_t index = 0;
  std::string record;
};
std::optional<TcptoWrite> tcpto_update(std::string_view table, const IpAddress& ip,
                                       bool timeout, uint64_t now);

// ---- the files (relative to the current directory, QMAILHOME) ----

// qmail-remote's view: remembers whether the last checked address was
// listed, so that a success costs nothing for unlisted addresses.
class Tcpto {
 public:
  // True when ip is to be skipped now. Failures read as "not dead".
  bool dead(const IpAddress& ip);
  // Records the outcome of a connection attempt. Failures are ignored.
  void record(const IpAddress& ip, bool timeout);

 private:
  bool listed_ = false;
};

// Reads a whole table (qmail-tcpto). ENOENT is returned as an error.
Result<std::string> tcpto_read(int family);
// Overwrites the table with zeros (qmail-tcpok, qmail-rspawn at start). The
// file must exist (it is not created).
Status tcpto_clear(int family);

}  // namespace qng
