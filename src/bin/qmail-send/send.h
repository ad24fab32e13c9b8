// send.h: qmail-send, the queue manager: its state and the steps of its
// event loop. docs/man/qmail-send.8 describes the program, QMAIL-INTERFACES
// section 6 the behaviour this keeps.
//
// One loop (loop.cc) waits with epoll on the spawn pipes, lock/trigger and
// a self-pipe for signals, then runs each activity once:
//   todo.cc      todo/N -> info/S/N + local/S/N + remote/S/N (preprocessing)
//   jobs.cc      per-channel queues by next-try time, passes over a channel
//                file, jobs, and completed messages
//   delivery.cc  spawn commands and reports, the D marks
//   bounce.cc    bounce/N paragraphs and the injected bounce
//   cleanup.cc   qmail-clean requests, ossified S2/S3 messages
#pragma once

#include <sys/types.h>

#include <algorithm>
#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "channel.h"
#include "control.h"
#include "controls.h"
#include "fd.h"
#include "io.h"
#include "logtext.h"
#include "spawn.h"

namespace qng::send {

// Descriptors qmail-start sets up.
constexpr int kLogFd = 0;
constexpr int kChanOut[kChannels] = {1, 3};  // commands to qmail-lspawn, qmail-rspawn
constexpr int kChanIn[kChannels] = {2, 4};   // their reports
constexpr int kCleanOut = 5;                 // commands to qmail-clean
constexpr int kCleanIn = 6;                  // its answers

constexpr time_t kSleepTodo = 1500;      // todo/ is scanned at least every 25 minutes
constexpr time_t kSleepForever = 86400;  // the longest single wait
constexpr time_t kSleepCleanup = 76431;  // between scans for ossified messages
constexpr time_t kSleepSysfail = 123;    // retry delay after a "warning:" trouble
constexpr time_t kSleepAlert = 10;       // pause after an "alert: ... sleeping..."
constexpr size_t kRecordMax = 65536;     // one text0 record of todo/info/local/remote
constexpr size_t kMaxDue = 32;           // finished messages handled per loop turn

// epoll tags of the loop's descriptors.
constexpr uint32_t kTagWake = 1;     // self-pipe of the signal handlers
constexpr uint32_t kTagTrigger = 2;  // lock/trigger
constexpr uint32_t kTagIn = 10;      // + channel: reports
constexpr uint32_t kTagOut = 20;     // + channel: room for a command

// A message waiting for its time: min-heap on `at`.
struct PqEntry {
  uint64_t id = 0;
  time_t at = 0;
};

class PrioQueue {
 public:
  void push(PqEntry e) {
    v_.push_back(e);
    std::push_heap(v_.begin(), v_.end(), later);
  }
  bool empty() const { return v_.empty(); }
  const PqEntry& min() const { return v_.front(); }
  void pop() {
    std::pop_heap(v_.begin(), v_.end(), later);
    v_.pop_back();
  }
  // Every entry is due at `t` (ALRM).
  void all_at(time_t t) {
    for (auto& e : v_) e.at = t;
  }

 private:
  static bool later(const PqEntry& a, const PqEntry& b) { return a.at > b.at; }
  std::vector<PqEntry> v_;
};

// One pass over one message's channel file, and the deliveries it started.
struct Job {
  int refs = 0;  // the pass and each running delivery; 0 = free
  uint64_t id = 0;
  Channel channel = kLocal;
  time_t retry = 0;     // next try, computed when the pass started
  std::string sender;   // from info/S/N
  size_t numtodo = 0;   // T records seen and not yet delivered or bounced
  bool hiteof = false;  // the pass read the whole file
  bool dying = false;   // older than queuelifetime: Z becomes D
};

// A delivery in progress, by slot.
struct Delivery {
  bool used = false;
  size_t job = 0;
  uint64_t delid = 0;  // "delivery D" in the log
  uint64_t mpos = 0;   // offset of the recipient's record in the channel file
  std::string recip;
};

struct Pass {
  uint64_t id = 0;  // 0: no pass running
  size_t job = 0;
  Fd fd;
  std::unique_ptr<Reader> reader;
  uint64_t mpos = 0;
};

struct Spawn {
  bool alive = true;
  unsigned concurrency = 0;
  unsigned used = 0;
  std::vector<Delivery> slots;
  std::vector<unsigned> free_slots;
  std::string pending;  // the command being written (non-blocking pipe)
  size_t pending_pos = 0;
  bool out_watched = false;
  // Slots are checked here, not by the parser, so that a stray report is a
  // warning as in qmail: the parser accepts the whole 2-byte range.
  SpawnReportParser parser{65536};
};

class QmailSend {
 public:
  explicit QmailSend(std::string home);
  ~QmailSend();
  QmailSend(const QmailSend&) = delete;
  QmailSend& operator=(const QmailSend&) = delete;

  // Runs until TERM (0) or until a lost pipe has been dealt with (111);
  // 111 at once when it cannot start.
  int run();

 private:
  // loop.cc
  bool start();
  bool start_channels();
  bool start_events();
  void take_signals();
  void begin_exit(int code);
  void reread();
  void watch(int fd, uint32_t events, uint32_t tag);
  void unwatch(int fd);
  void open_trigger(bool warn = false);
  void drain(int fd);
  void pause_all() { pause_until_ = recent_ + kSleepAlert; }
  bool paused() const { return recent_ < pause_until_; }

  // jobs.cc
  void pqadd(uint64_t id);
  bool pqstart();
  void pqfinish();
  void pqrun();
  void job_init();
  size_t job_open(uint64_t id, Channel c);
  void job_close(size_t j);
  bool get_info(uint64_t id, std::string& sender, time_t& birth);
  void pass_selprep(time_t& wakeup);
  void pass_dochan(Channel c);
  void pass_close(Channel c, bool hiteof);
  void pass_do();
  void messdone(uint64_t id);

  // delivery.cc
  void del_init();
  void del_status();
  bool del_canexit() const;
  bool del_avail(Channel c) const;
  void del_start(size_t j, uint64_t mpos, const std::string& recip);
  void del_read(Channel c);
  void del_report(Channel c, unsigned slot, char letter, std::string text);
  void markdone(Channel c, uint64_t id, uint64_t pos);
  void comm_write(Channel c, unsigned slot, const Job& job, const std::string& recip);
  void comm_flush(Channel c);
  void comm_selprep();
  void spawn_died(Channel c);

  // todo.cc
  void todo_selprep(time_t& wakeup);
  void todo_do();
  void todo_process(uint64_t id);

  // bounce.cc
  bool add_bounce(uint64_t id, const std::string& recip, const std::string& report);
  bool inject_bounce(uint64_t id);
  std::string next_boundary(time_t now);

  // cleanup.cc
  bool clean(const std::string& what);
  void clean_died();
  void cleanup_selprep(time_t& wakeup);
  void cleanup_do();

  void log(std::string_view line) const { log_.line(line); }

  std::string home_;
  Control ctl_;
  Controls controls_;
  Log log_{kLogFd};
  Fd mutex_;
  Fd epoll_;
  Fd trigger_read_;
  Fd trigger_write_;  // kept open so the FIFO never reports end of file
  time_t recent_ = 0;
  time_t pause_until_ = 0;
  bool exitasap_ = false;
  int exit_code_ = 0;
  bool clean_alive_ = true;

  PrioQueue pqchan_[kChannels];  // -todo +info, channel file present
  PrioQueue pqdone_;             // -todo +info, perhaps no channel file left
  PrioQueue pqfail_;             // stat() trouble: pqadd again later
  std::vector<Job> jobs_;
  std::vector<size_t> free_jobs_;
  Pass pass_[kChannels];
  Spawn spawn_[kChannels];
  uint64_t masterdelid_ = 1;
  uint64_t boundaries_ = 0;  // MIME boundaries made, for make_boundary()

  bool todo_scanning_ = false;
  bool trigger_pending_ = false;
  time_t nexttodorun_ = 0;
  std::vector<uint64_t> todo_ids_;
  size_t todo_pos_ = 0;

  bool cleanup_scanning_ = false;
  time_t cleanuptime_ = 0;
  std::vector<uint64_t> cleanup_ids_;
  size_t cleanup_pos_ = 0;
};

// Path of a message's file in a channel: local/S/N or remote/S/N.
std::string chan_path(Channel c, uint64_t id);

}  // namespace qng::send
