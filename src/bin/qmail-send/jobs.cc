// jobs.cc: the per-channel queues of messages by next-try time, passes over
// a channel file, jobs, and messages whose deliveries are all done.
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include <cerrno>

#include "queue.h"
#include "queuedir.h"
#include "retry.h"
#include "send.h"

namespace qng::send {

// Files a message has: info/S/N must exist and todo/N must not (else the
// todo scan handles it); the mtime of each channel file is its next try;
// with neither channel file left the message is finished.
void QmailSend::pqadd(uint64_t id) {
  struct stat st;
  std::string fn = info_path(id);
  auto fail = [&] {
    log("warning: unable to stat " + fn + "; will try again later");
    pqfail_.push({id, ::time(nullptr) + kSleepSysfail});
  };
  if (::stat(fn.c_str(), &st) == -1) {
    if (errno != ENOENT) fail();
    return;  // someone yanking our chain
  }
  fn = todo_path(id);
  if (::stat(fn.c_str(), &st) == 0) return;  // preprocessing did not finish
  if (errno != ENOENT) return fail();

  bool has[kChannels] = {false, false};
  time_t at[kChannels] = {0, 0};
  for (int c = 0; c < kChannels; ++c) {
    fn = chan_path(static_cast<Channel>(c), id);
    if (::stat(fn.c_str(), &st) == 0) {
      has[c] = true;
      at[c] = st.st_mtime;
    } else if (errno != ENOENT) {
      return fail();
    }
  }
  for (int c = 0; c < kChannels; ++c)
    if (has[c]) pqchan_[c].push({id, at[c]});
  if (!has[kLocal] && !has[kRemote]) pqdone_.push({id, ::time(nullptr)});
}

// At start: every message in info/. False when info/ cannot be read.
bool QmailSend::pqstart() {
  auto ids = list_split("info");
  if (!ids) return false;
  for (uint64_t id : *ids) pqadd(id);
  return true;
}

// At exit: each waiting message's next try becomes its channel file's mtime,
// so that a restart keeps the schedule.
void QmailSend::pqfinish() {
  for (int c = 0; c < kChannels; ++c) {
    while (!pqchan_[c].empty()) {
      PqEntry e = pqchan_[c].min();
      pqchan_[c].pop();
      std::string fn = chan_path(static_cast<Channel>(c), e.id);
      struct utimbuf ut {};
      ut.actime = ut.modtime = e.at;
      if (::utime(fn.c_str(), &ut) == -1)
        log("warning: unable to utime " + fn + "; message will be retried too soon");
    }
  }
}

// ALRM: everything waiting is due now.
void QmailSend::pqrun() {
  for (auto& q : pqchan_) q.all_at(recent_);
}

void QmailSend::job_init() {
  size_t n = static_cast<size_t>(spawn_[kLocal].concurrency) + spawn_[kRemote].concurrency;
  jobs_.assign(n, Job{});
  free_jobs_.clear();
  for (size_t j = n; j > 0; --j) free_jobs_.push_back(j - 1);
}

size_t QmailSend::job_open(uint64_t id, Channel c) {
  size_t j = free_jobs_.back();
  free_jobs_.pop_back();
  Job& job = jobs_[j];
  job = Job{};
  job.refs = 1;
  job.id = id;
  job.channel = c;
  return j;
}

// Drops one reference; the last one files the message again: back into its
// channel's queue at the retry time, or, when every recipient of the file is
// done, the file goes and the message is checked for completion.
void QmailSend::job_close(size_t j) {
  Job& job = jobs_[j];
  if (--job.refs > 0) return;
  PqEntry pe{job.id, job.retry};
  Channel c = job.channel;
  bool done = job.hiteof && job.numtodo == 0;
  job.sender.clear();
  free_jobs_.push_back(j);

  if (done) {
    std::string fn = chan_path(c, pe.id);
    if (::unlink(fn.c_str()) == -1) {
      log("warning: unable to unlink " + fn + "; will try again later");
      pe.at = ::time(nullptr) + kSleepSysfail;
    } else {
      for (int o = 0; o < kChannels; ++o) {
        if (o == c) continue;
        struct stat st;
        fn = chan_path(static_cast<Channel>(o), pe.id);
        if (::stat(fn.c_str(), &st) == 0) return;  // the other channel is still going
        if (errno != ENOENT) {
          log("warning: unable to stat " + fn);
          break;  // messdone() looks again
        }
      }
      pqdone_.push({pe.id, ::time(nullptr)});
      return;
    }
  }
  pqchan_[c].push(pe);
}

// The sender (F record) and birth (mtime) from info/S/N.
bool QmailSend::get_info(uint64_t id, std::string& sender, time_t& birth) {
  auto fd = open_read(info_path(id));
  if (!fd) return false;
  struct stat st;
  if (::fstat(fd->get(), &st) == -1) return false;
  Reader r(fd->get(), 0, 1024);
  std::string line;
  auto got = r.read_line(line, kRecordMax, '\0');
  if (!got || line.size() < 2 || line.back() != '\0' || line[0] != 'F') return false;
  birth = st.st_mtime;
  sender = line.substr(1, line.size() - 2);
  return true;
}

void QmailSend::pass_selprep(time_t& wakeup) {
  if (exitasap_) return;
  if (paused()) return;
  for (int c = 0; c < kChannels; ++c)
    if (pass_[c].id && del_avail(static_cast<Channel>(c))) {
      wakeup = recent_;
      return;
    }
  if (!free_jobs_.empty())
    for (int c = 0; c < kChannels; ++c)
      if (!pass_[c].id && spawn_[c].concurrency > 0 && !pqchan_[c].empty())
        wakeup = std::min(wakeup, pqchan_[c].min().at);
  if (!pqfail_.empty()) wakeup = std::min(wakeup, pqfail_.min().at);
  if (!pqdone_.empty()) wakeup = std::min(wakeup, pqdone_.min().at);
}

// Starts a pass when the channel's first message is due, then one delivery
// per T record while a slot is free.
void QmailSend::pass_dochan(Channel c) {
  if (exitasap_ || paused()) return;
  Pass& p = pass_[c];
  if (!p.id) {
    if (spawn_[c].concurrency == 0) return;  // concurrency 0 holds the channel
    if (free_jobs_.empty() || pqchan_[c].empty()) return;
    PqEntry pe = pqchan_[c].min();
    if (pe.at > recent_) return;
    pqchan_[c].pop();

    std::string fn = chan_path(c, pe.id);
    auto fd = open_read(fn);
    std::string sender;
    time_t birth = 0;
    bool ok = fd.ok();
    if (ok && !get_info(pe.id, sender, birth)) {
      ok = false;
      fn = info_path(pe.id);
    }
    if (!ok) {
      log("warning: trouble opening " + fn + "; will try again later");
      pqchan_[c].push({pe.id, recent_ + kSleepSysfail});
      return;
    }
    p.id = pe.id;
    p.fd = std::move(*fd);
    p.reader = std::make_unique<Reader>(p.fd.get(), 0, 4096);
    p.mpos = 0;
    p.job = job_open(pe.id, c);
    Job& job = jobs_[p.job];
    job.retry = next_retry(birth, recent_, c);
    job.dying = recent_ > birth &&
                static_cast<uint64_t>(recent_ - birth) > controls_.queuelifetime;
    job.sender = std::move(sender);
  }

  std::string line;
  while (p.id && del_avail(c)) {
    auto r = p.reader->read_line(line, kRecordMax, '\0');
    if (!r) {
      log("warning: trouble reading " + chan_path(c, p.id) + "; will try again later");
      return pass_close(c, false);
    }
    if (line.empty() || line.back() != '\0') return pass_close(c, true);
    switch (line[0]) {
      case 'T':
        ++jobs_[p.job].numtodo;
        del_start(p.job, p.mpos, line.substr(1, line.size() - 2));
        break;
      case 'D':
        break;
      default:
        log("warning: unknown record type in " + chan_path(c, p.id) + "!");
        return pass_close(c, false);
    }
    p.mpos += line.size();
  }
}

void QmailSend::pass_close(Channel c, bool hiteof) {
  Pass& p = pass_[c];
  p.reader.reset();
  p.fd.reset();
  if (hiteof) jobs_[p.job].hiteof = true;
  p.id = 0;
  job_close(p.job);
}

void QmailSend::pass_do() {
  for (int c = 0; c < kChannels; ++c) pass_dochan(static_cast<Channel>(c));
  if (exitasap_) return;  // a restart finishes what is left
  for (size_t i = 0; i < kMaxDue && !pqfail_.empty() && pqfail_.min().at <= recent_; ++i) {
    uint64_t id = pqfail_.min().id;
    pqfail_.pop();
    pqadd(id);
  }
  for (size_t i = 0; i < kMaxDue && !pqdone_.empty() && pqdone_.min().at <= recent_; ++i) {
    if (exitasap_) return;
    uint64_t id = pqdone_.min().id;
    pqdone_.pop();
    messdone(id);
  }
}

// Every channel file is gone: inject the bounce, if any, log the end, remove
// info (S2) and have qmail-clean remove mess (S1).
void QmailSend::messdone(uint64_t id) {
  struct stat st;
  auto fail = [&](const std::string& fn) {
    log("warning: unable to stat " + fn + "; will try again later");
    pqdone_.push({id, ::time(nullptr) + kSleepSysfail});
  };
  for (int c = 0; c < kChannels; ++c) {
    std::string fn = chan_path(static_cast<Channel>(c), id);
    if (::stat(fn.c_str(), &st) == 0) return;  // still going
    if (errno != ENOENT) return fail(fn);
  }
  std::string fn = todo_path(id);
  if (::stat(fn.c_str(), &st) == 0) return;
  if (errno != ENOENT) return fail(fn);
  fn = info_path(id);
  if (::stat(fn.c_str(), &st) == -1) {
    if (errno != ENOENT) fail(fn);
    return;
  }

  // -todo +info -local -remote ?bounce
  if (!inject_bounce(id)) {
    pqdone_.push({id, ::time(nullptr) + kSleepSysfail});
    return;
  }
  log("end msg " + std::to_string(id));

  // -todo +info -local -remote -bounce
  if (::unlink(fn.c_str()) == -1) {
    log("warning: unable to unlink " + fn + "; will try again later");
    pqdone_.push({id, ::time(nullptr) + kSleepSysfail});
    return;
  }
  // mess must not go before the unlink of info is on disk: info without
  // mess would be retried until it bounced.
  (void)fsync_dir(dir_of(fn));

  // -todo -info -local -remote -bounce
  clean("foop/" + std::to_string(id));
}

}  // namespace qng::send
