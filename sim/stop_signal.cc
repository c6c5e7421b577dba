#include "sim/stop_signal.h"

#include <csignal>
#include <ctime>

namespace edgefl {
namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop.store(true); }

}  // namespace

std::atomic<bool>& StopOnSignal() {
  struct sigaction action = {};
  action.sa_handler = OnSignal;  // no SA_RESTART: waits return on Ctrl-C
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  return g_stop;
}

bool StopRequested() { return g_stop.load(); }

std::string LocalTime(const char* format) {
  char text[32];
  const std::time_t now = std::time(nullptr);
  std::tm local = {};
  localtime_r(&now, &local);
  std::strftime(text, sizeof(text), format, &local);
  return text;
}

}  // namespace edgefl
