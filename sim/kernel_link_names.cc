#include "sim/kernel_link_names.h"

#include <cctype>

namespace edgefl {
namespace {

constexpr char kPrefix[] = "efl";
constexpr uint32_t kSubnet = (10u << 24) | (78u << 16);  // 10.78.0.0

std::string Dotted(uint32_t address) {
  return std::to_string(address >> 24) + "." + std::to_string((address >> 16) & 255) + "." +
         std::to_string((address >> 8) & 255) + "." + std::to_string(address & 255);
}

}  // namespace

std::string CoordinatorNamespaceName(pid_t owner) { return kPrefix + std::to_string(owner) + "c"; }
std::string BridgeName(pid_t owner) { return kPrefix + std::to_string(owner) + "b"; }
std::string HostVethName(pid_t owner, uint32_t node) {
  return kPrefix + std::to_string(owner) + "h" + std::to_string(node);
}
std::string NamespaceName(pid_t owner, uint32_t node) {
  return kPrefix + std::to_string(owner) + "n" + std::to_string(node);
}

bool ParseOwner(const std::string& full_name, pid_t* owner) {
  const std::string name = full_name.substr(0, full_name.find('@'));
  if (name.rfind(kPrefix, 0) != 0) return false;
  size_t at = sizeof(kPrefix) - 1;
  const size_t digits_start = at;
  while (at < name.size() && std::isdigit(static_cast<unsigned char>(name[at]))) ++at;
  if (at == digits_start || at - digits_start > 7 || at == name.size()) return false;
  const size_t digits_end = at;
  const char kind = name[at++];
  const size_t index_digits = name.size() - at;
  for (size_t i = at; i < name.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(name[i]))) return false;
  }
  const bool well_formed = kind == 'b' || kind == 'c' ? index_digits == 0
                                                      : (kind == 'h' || kind == 'n') && index_digits > 0 &&
                                                            index_digits <= 4;
  if (!well_formed) return false;
  *owner = static_cast<pid_t>(std::stol(name.substr(digits_start, digits_end - digits_start)));
  return *owner > 0;
}

std::string CoordinatorAddress() { return Dotted(kSubnet + 1); }
std::string NodeAddress(uint32_t node) { return Dotted(kSubnet + 2 + node); }

}  // namespace edgefl
