// delivery.cc: deliveries through qmail-lspawn and qmail-rspawn: commands
// out, reports in, and the D mark that checkpoints each recipient.
#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>

#include "bounce_text.h"
#include "failure.h"
#include "queue.h"
#include "queuedir.h"
#include "send.h"
#include "verp.h"

namespace qng::send {
namespace {

constexpr std::string_view kTooLong = "Sorry, the address is too long to deliver. (#5.1.3)\n";

}  // namespace

void QmailSend::del_init() { del_status(); }

void QmailSend::del_status() {
  std::string s = "status:";
  for (int c = 0; c < kChannels; ++c) {
    s += ' ';
    s += kChanName[c];
    s += ' ' + std::to_string(spawn_[c].used) + "/" + std::to_string(spawn_[c].concurrency);
  }
  if (exitasap_) s += " exitasap";
  log(s);
}

// A dead spawn's deliveries will never report: they are not waited for.
bool QmailSend::del_canexit() const {
  for (const auto& sp : spawn_)
    if (sp.alive && sp.used) return false;
  return true;
}

bool QmailSend::del_avail(Channel c) const {
  const Spawn& sp = spawn_[c];
  return sp.alive && sp.pending.empty() && sp.used < sp.concurrency;
}

void QmailSend::del_start(size_t j, uint64_t mpos, const std::string& recip) {
  Job& job = jobs_[j];
  Channel c = job.channel;
  Spawn& sp = spawn_[c];
  unsigned slot = sp.free_slots.back();
  sp.free_slots.pop_back();
  Delivery& d = sp.slots[slot];
  d.used = true;
  d.job = j;
  ++job.refs;
  d.delid = masterdelid_++;
  d.mpos = mpos;
  d.recip = recip;
  ++sp.used;

  log("starting delivery " + std::to_string(d.delid) + ": msg " + std::to_string(job.id) +
      " to " + kChanName[c] + " " + log_safe(recip));
  del_status();

  // A field the spawn would refuse would break the channel for everyone.
  if (recip.size() > kSpawnMaxAddress || verp_sender(job.sender, recip).size() > kSpawnMaxAddress)
    return del_report(c, slot, 'D', std::string(kTooLong));
  comm_write(c, slot, job, recip);
}

void QmailSend::comm_write(Channel c, unsigned slot, const Job& job, const std::string& recip) {
  Spawn& sp = spawn_[c];
  SpawnCommand cmd;
  cmd.slot = slot;
  cmd.message = split_name(job.id);
  cmd.sender = verp_sender(job.sender, recip);
  cmd.recipient = recip;
  sp.pending = encode_spawn_command(cmd);
  sp.pending_pos = 0;
  comm_flush(c);
}

// Writes what the non-blocking pipe takes; the rest waits for EPOLLOUT.
void QmailSend::comm_flush(Channel c) {
  Spawn& sp = spawn_[c];
  while (sp.pending_pos < sp.pending.size()) {
    ssize_t w = ::write(kChanOut[c], sp.pending.data() + sp.pending_pos,
                        sp.pending.size() - sp.pending_pos);
    if (w > 0) {
      sp.pending_pos += static_cast<size_t>(w);
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) return;
    return spawn_died(c);
  }
  sp.pending.clear();
  sp.pending_pos = 0;
}

void QmailSend::comm_selprep() {
  for (int c = 0; c < kChannels; ++c) {
    Spawn& sp = spawn_[c];
    bool want = sp.alive && !sp.pending.empty();
    if (want == sp.out_watched) continue;
    if (want)
      watch(kChanOut[c], EPOLLOUT, kTagOut + static_cast<uint32_t>(c));
    else
      unwatch(kChanOut[c]);
    sp.out_watched = want;
  }
}

void QmailSend::spawn_died(Channel c) {
  Spawn& sp = spawn_[c];
  if (!sp.alive) return;
  log("alert: oh no! lost spawn connection! dying...");
  sp.alive = false;
  unwatch(kChanIn[c]);
  if (sp.out_watched) unwatch(kChanOut[c]);
  sp.out_watched = false;
  sp.pending.clear();
  begin_exit(kExitTemp);
}

void QmailSend::del_read(Channel c) {
  char buf[8192];
  ssize_t r = ::read(kChanIn[c], buf, sizeof buf);
  if (r < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (r <= 0) return spawn_died(c);
  std::vector<SpawnReport> reports;
  Status parsed = spawn_[c].parser.feed(std::string_view(buf, static_cast<size_t>(r)), reports);
  for (auto& rep : reports) del_report(c, rep.slot, rep.letter, std::move(rep.text));
  if (!parsed) spawn_died(c);  // a report past the protocol's cap: a broken spawn
}

void QmailSend::del_report(Channel c, unsigned slot, char letter, std::string text) {
  Spawn& sp = spawn_[c];
  if (slot >= sp.concurrency || !sp.slots[slot].used) {
    log("warning: internal error: delivery report out of range");
    return;
  }
  Delivery& d = sp.slots[slot];
  Job& job = jobs_[d.job];
  std::string delid = std::to_string(d.delid);

  if (letter == 'Z' && job.dying) {
    letter = 'D';
    if (!text.empty() && text.back() != '\n') text += '\n';
    text += kTooOld;
  }
  switch (letter) {
    case 'K':
      log("delivery " + delid + ": success: " + log_safe(text));
      markdone(c, job.id, d.mpos);
      --job.numtodo;
      break;
    case 'Z':
      log("delivery " + delid + ": deferral: " + log_safe(text));
      break;
    case 'D':
      log("delivery " + delid + ": failure: " + log_safe(text));
      // The paragraph must be on disk before the D mark that drops the
      // recipient; when it cannot be written the recipient stays T and is
      // tried (and fails) again later.
      if (!add_bounce(job.id, d.recip, text)) {
        log("alert: unable to append to bounce message; HELP! sleeping...");
        pause_all();
        break;
      }
      markdone(c, job.id, d.mpos);
      --job.numtodo;
      break;
    default:
      log("delivery " + delid + ": report mangled, will defer");
  }
  size_t j = d.job;
  d.used = false;
  d.recip.clear();
  sp.free_slots.push_back(slot);
  --sp.used;
  job_close(j);
  del_status();
}

// The recipient's record starts with D from now on: seek + one byte, then
// fsync, so a restart does not deliver it again.
void QmailSend::markdone(Channel c, uint64_t id, uint64_t pos) {
  std::string fn = chan_path(c, id);
  auto fd = open_flags(fn, O_WRONLY | O_NOCTTY);
  bool ok = fd.ok();
  if (ok) {
    ssize_t w;
    do w = ::pwrite(fd->get(), "D", 1, static_cast<off_t>(pos));
    while (w == -1 && errno == EINTR);
    ok = w == 1 && fsync_fd(fd->get(), fn).ok() && fd->close().ok();
  }
  if (!ok) log("warning: trouble marking " + fn + "; message will be delivered twice!");
}

}  // namespace qng::send
