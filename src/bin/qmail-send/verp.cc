// verp.cc: per-recipient VERP expansion of the envelope sender.
#include "verp.h"

namespace qng::send {
namespace {

constexpr std::string_view kVerpSuffix = "-@[]";

bool is_verp(std::string_view sender) {
  return sender.size() >= kVerpSuffix.size() &&
         sender.substr(sender.size() - kVerpSuffix.size()) == kVerpSuffix;
}

}  // namespace

std::string verp_sender(std::string_view sender, std::string_view recipient) {
  if (!is_verp(sender)) return std::string(sender);
  // pre@host-@[]: `head` is "pre@host", at = the '@' before host.
  std::string_view head = sender.substr(0, sender.size() - kVerpSuffix.size());
  size_t at = head.rfind('@');
  size_t rat = recipient.rfind('@');
  if (at == std::string_view::npos || rat == std::string_view::npos) return std::string(sender);
  std::string out;
  out.reserve(sender.size() + recipient.size() + 2);
  out.append(head.substr(0, at));
  out.append(recipient.substr(0, rat));
  out += '=';
  out.append(recipient.substr(rat + 1));
  out += '@';
  out.append(head.substr(at + 1));
  return out;
}

std::string bounce_target(std::string_view sender) {
  if (is_verp(sender)) sender.remove_suffix(kVerpSuffix.size());
  return std::string(sender);
}

}  // namespace qng::send
