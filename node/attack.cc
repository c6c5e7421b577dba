#include "node/attack.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace edgefl {

Status ParseAttack(std::string_view text, NodeAttack* out) {
  const auto bad = [&](const char* why) {
    return Status::Error(StatusCode::kInvalidArgument, "--attack '%.*s': %s", static_cast<int>(text.size()),
                         text.data(), why);
  };
  const size_t colon = text.find(':');
  const std::string_view kind = text.substr(0, colon);
  NodeAttack attack;
  if (kind == "sign-flip") {
    if (colon != std::string_view::npos) return bad("sign-flip takes no value (scale:-F flips and scales)");
    attack.kind = AttackKind::kSignFlip;
    *out = attack;
    return Status::Ok();
  }
  if (kind == "scale") {
    attack.kind = AttackKind::kScale;
  } else if (kind == "constant") {
    attack.kind = AttackKind::kConstant;
  } else {
    return bad("the kind must be sign-flip, scale:F or constant:V");
  }
  if (colon == std::string_view::npos) return bad("give the value, e.g. scale:100 or constant:1e12");
  const std::string number(text.substr(colon + 1));
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(number.c_str(), &end);
  if (number.empty() || end != number.c_str() + number.size() || errno != 0 || !std::isfinite(value) ||
      std::fabs(value) > std::numeric_limits<float>::max()) {
    return bad("the value must be a finite number that fits a float");
  }
  attack.value = static_cast<float>(value);
  *out = attack;
  return Status::Ok();
}

std::string DescribeAttack(const NodeAttack& attack) {
  char text[48];
  switch (attack.kind) {
    case AttackKind::kNone:
      return "none";
    case AttackKind::kSignFlip:
      return "sign-flip";
    case AttackKind::kScale:
      std::snprintf(text, sizeof(text), "scale:%g", static_cast<double>(attack.value));
      return text;
    case AttackKind::kConstant:
      std::snprintf(text, sizeof(text), "constant:%g", static_cast<double>(attack.value));
      return text;
  }
  return "none";
}

void ApplyAttack(const NodeAttack& attack, std::span<float> gradient) {
  switch (attack.kind) {
    case AttackKind::kNone:
      return;
    case AttackKind::kSignFlip:
      for (float& g : gradient) g = -g;
      return;
    case AttackKind::kScale:
      for (float& g : gradient) g *= attack.value;
      return;
    case AttackKind::kConstant:
      std::fill(gradient.begin(), gradient.end(), attack.value);
      return;
  }
}

}  // namespace edgefl
