#include "node/attack.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace edgefl {
namespace {

bool Mentions(const Status& s, const char* what) { return std::string(s.message()).find(what) != std::string::npos; }

TEST_CASE("attacks parse from the command line, and refuse what they cannot do") {
  NodeAttack a;
  REQUIRE(ParseAttack("sign-flip", &a).ok());
  CHECK(a == NodeAttack{AttackKind::kSignFlip, 0.0f});
  REQUIRE(ParseAttack("scale:100", &a).ok());
  CHECK(a == NodeAttack{AttackKind::kScale, 100.0f});
  REQUIRE(ParseAttack("scale:-4", &a).ok());
  CHECK(a.value == -4.0f);
  REQUIRE(ParseAttack("constant:1e12", &a).ok());
  CHECK(a == NodeAttack{AttackKind::kConstant, 1e12f});
  CHECK(DescribeAttack(a) == "constant:1e+12");
  CHECK(DescribeAttack({}) == "none");

  CHECK(Mentions(ParseAttack("flip", &a), "--attack 'flip': the kind must be sign-flip, scale:F or constant:V"));
  CHECK(Mentions(ParseAttack("scale", &a), "give the value"));
  CHECK(Mentions(ParseAttack("scale:", &a), "finite number"));
  CHECK(Mentions(ParseAttack("scale:1x", &a), "finite number"));
  CHECK(Mentions(ParseAttack("constant:1e39", &a), "fits a float"));
  CHECK(Mentions(ParseAttack("constant:nan", &a), "finite number"));
  CHECK(Mentions(ParseAttack("sign-flip:2", &a), "takes no value"));
}

TEST_CASE("attacks replace the gradient as documented") {
  std::vector<float> g = {1.5f, -2.0f, 0.0f};
  ApplyAttack({}, g);
  CHECK(g == std::vector<float>{1.5f, -2.0f, 0.0f});
  ApplyAttack({AttackKind::kSignFlip, 0.0f}, g);
  CHECK(g == std::vector<float>{-1.5f, 2.0f, -0.0f});
  ApplyAttack({AttackKind::kScale, 100.0f}, g);
  CHECK(g == std::vector<float>{-150.0f, 200.0f, 0.0f});
  ApplyAttack({AttackKind::kConstant, 1e12f}, g);
  CHECK(g == std::vector<float>{1e12f, 1e12f, 1e12f});
}

}  // namespace
}  // namespace edgefl
