// loop.cc: qmail-send's start, its epoll loop, signals and shutdown.
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "failure.h"
#include "lock.h"
#include "queue.h"
#include "send.h"

namespace qng::send {
namespace {

// Signals only set a flag and poke the self-pipe; the loop does the work.
volatile sig_atomic_t g_term = 0;
volatile sig_atomic_t g_alrm = 0;
volatile sig_atomic_t g_hup = 0;
int g_wake_fd = -1;

void on_signal(int sig) {
  int saved = errno;
  if (sig == SIGTERM) g_term = 1;
  if (sig == SIGALRM) g_alrm = 1;
  if (sig == SIGHUP) g_hup = 1;
  if (g_wake_fd >= 0) {
    char c = 0;
    (void)!::write(g_wake_fd, &c, 1);  // a full pipe already wakes the loop
  }
  errno = saved;
}

bool set_flags(int fd, bool nonblock) {
  int fl = ::fcntl(fd, F_GETFL);
  if (fl == -1) return false;
  if (nonblock && ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1) return false;
  // qmail-queue, run for bounces, must not hold the spawn and clean pipes.
  return ::fcntl(fd, F_SETFD, FD_CLOEXEC) != -1;
}

Fd g_wake_read;
Fd g_wake_write;

bool install_signals() {
  if (!make_pipe(g_wake_read, g_wake_write)) return false;
  if (!set_flags(g_wake_read.get(), true) || !set_flags(g_wake_write.get(), true)) return false;
  g_wake_fd = g_wake_write.get();
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (int sig : {SIGTERM, SIGALRM, SIGHUP})
    if (::sigaction(sig, &sa, nullptr) == -1) return false;
  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  sigemptyset(&ign.sa_mask);
  if (::sigaction(SIGPIPE, &ign, nullptr) == -1) return false;
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  return ::sigaction(SIGCHLD, &dfl, nullptr) == 0;
}

}  // namespace

std::string chan_path(Channel c, uint64_t id) { return split_path(kChanDir[c], id); }

QmailSend::QmailSend(std::string home) : home_(std::move(home)), ctl_(home_ + "/control") {}
QmailSend::~QmailSend() = default;

bool QmailSend::start() {
  auto fail = [this](const char* why) {
    log(std::string("alert: cannot start: ") + why);
    return false;
  };
  if (::chdir(home_.c_str()) == -1) return fail("unable to switch to home directory");
  auto c = read_controls(ctl_);
  if (!c) return fail("unable to read controls");
  controls_ = std::move(*c);
  if (::chdir("queue") == -1) return fail("unable to switch to queue directory");
  if (!install_signals()) return fail("unable to catch signals");
  ::umask(077);

  auto mutex = open_flags("lock/sendmutex", O_WRONLY | O_CREAT | O_NONBLOCK | O_NOCTTY, 0600);
  if (!mutex) return fail("unable to open mutex");
  if (!lock_exclusive(mutex->get(), false)) return fail("qmail-send is already running");
  mutex_ = std::move(*mutex);

  if (!start_channels()) return fail("hath the daemon spawn no fire?");
  if (!start_events()) return fail("unable to set up the event loop");

  recent_ = ::time(nullptr);
  while (!pqstart()) {
    log("alert: unable to opendir info, sleeping...");
    ::sleep(static_cast<unsigned>(kSleepAlert));
    if (g_term) break;  // the loop then exits at once
  }
  job_init();
  del_init();
  nexttodorun_ = recent_;   // the first todo scan runs at once
  cleanuptime_ = recent_;   // and so does the first cleanup scan
  return true;
}

// Reads each spawn's 2-byte banner (its limit) and sizes the channel.
bool QmailSend::start_channels() {
  for (int c = 0; c < kChannels; ++c) {
    unsigned char banner[2];
    size_t got = 0;
    while (got < 2) {
      auto r = read_some(kChanIn[c], reinterpret_cast<char*>(banner) + got, 2 - got);
      if (!r || *r == 0) return false;
      got += *r;
    }
    Spawn& sp = spawn_[c];
    sp.concurrency = std::min(controls_.concurrency[c], decode_spawn_banner(banner[0], banner[1]));
    sp.slots.assign(sp.concurrency, Delivery{});
    sp.free_slots.clear();
    for (unsigned i = sp.concurrency; i > 0; --i) sp.free_slots.push_back(i - 1);
  }
  return true;
}

bool QmailSend::start_events() {
  for (int c = 0; c < kChannels; ++c)
    if (!set_flags(kChanOut[c], true) || !set_flags(kChanIn[c], true)) return false;
  if (!set_flags(kCleanOut, false) || !set_flags(kCleanIn, false)) return false;
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep == -1) return false;
  epoll_.reset(ep);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u32 = kTagWake;
  if (::epoll_ctl(ep, EPOLL_CTL_ADD, g_wake_read.get(), &ev) == -1) return false;
  for (int c = 0; c < kChannels; ++c) {
    ev.data.u32 = kTagIn + static_cast<uint32_t>(c);
    if (::epoll_ctl(ep, EPOLL_CTL_ADD, kChanIn[c], &ev) == -1) return false;
  }
  open_trigger(true);
  return true;
}

// lock/trigger: qmail-queue writes a byte to it after each new message. The
// read end is non-blocking; our own write end keeps the FIFO from ever
// reading end of file, so it is readable only when poked.
// Without it the 25-minute rescan still finds new mail; each scan tries to
// open it again.
void QmailSend::open_trigger(bool warn) {
  if (trigger_read_) return;
  auto r = open_flags("lock/trigger", O_RDONLY | O_NONBLOCK);
  auto w = r ? open_flags("lock/trigger", O_WRONLY | O_NONBLOCK) : Result<Fd>(r.error());
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u32 = kTagTrigger;
  if (!w || ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, r->get(), &ev) == -1) {
    if (warn) log("warning: unable to open lock/trigger");
    return;
  }
  trigger_read_ = std::move(*r);
  trigger_write_ = std::move(*w);
}

void QmailSend::watch(int fd, uint32_t events, uint32_t tag) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u32 = tag;
  (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev);
}

void QmailSend::unwatch(int fd) { (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr); }

void QmailSend::drain(int fd) {
  char buf[256];
  for (;;) {
    ssize_t r = ::read(fd, buf, sizeof buf);
    if (r > 0) continue;
    if (r < 0 && errno == EINTR) continue;
    return;
  }
}

void QmailSend::begin_exit(int code) {
  exitasap_ = true;
  exit_code_ = std::max(exit_code_, code);
}

void QmailSend::take_signals() {
  if (g_term) {
    g_term = 0;
    begin_exit(0);
  }
  if (g_alrm) {
    g_alrm = 0;
    pqrun();
  }
  if (g_hup) {
    g_hup = 0;
    reread();
  }
}

// HUP: locals and virtualdomains only, as qmail; on trouble the old tables
// stay.
void QmailSend::reread() {
  if (auto s = reread_maps(ctl_, controls_.maps); !s)
    log("alert: unable to reread " + s.error().context());
}

int QmailSend::run() {
  if (!start()) return kExitTemp;
  while (!exitasap_ || !del_canexit()) {
    recent_ = ::time(nullptr);
    take_signals();
    if (exitasap_)
      for (int c = 0; c < kChannels; ++c)
        if (pass_[c].id) pass_close(static_cast<Channel>(c), false);

    time_t wakeup = recent_ + kSleepForever;
    comm_selprep();
    pass_selprep(wakeup);
    todo_selprep(wakeup);
    cleanup_selprep(wakeup);
    if (paused() && !exitasap_) wakeup = std::min(wakeup, pause_until_);

    int timeout = 0;
    if (wakeup > recent_)
      timeout = static_cast<int>(std::min(wakeup - recent_, kSleepForever)) * 1000;
    epoll_event events[16];
    int n = ::epoll_wait(epoll_.get(), events, 16, timeout);
    if (n == -1) {
      if (errno != EINTR) log("warning: trouble in epoll_wait");
      continue;
    }
    recent_ = ::time(nullptr);

    bool out_ready[kChannels] = {false, false};
    bool in_ready[kChannels] = {false, false};
    for (int i = 0; i < n; ++i) {
      uint32_t tag = events[i].data.u32;
      if (tag == kTagWake) {
        drain(g_wake_read.get());
      } else if (tag == kTagTrigger) {
        drain(trigger_read_.get());
        trigger_pending_ = true;
      } else if (tag >= kTagOut) {
        out_ready[tag - kTagOut] = true;
      } else if (tag >= kTagIn) {
        in_ready[tag - kTagIn] = true;
      }
    }

    for (int c = 0; c < kChannels; ++c)
      if (out_ready[c] && spawn_[c].alive) comm_flush(static_cast<Channel>(c));
    for (int c = 0; c < kChannels; ++c)
      if (in_ready[c] && spawn_[c].alive) del_read(static_cast<Channel>(c));
    todo_do();
    pass_do();
    cleanup_do();
  }
  pqfinish();
  log("status: exiting");
  return exit_code_;
}

}  // namespace qng::send
