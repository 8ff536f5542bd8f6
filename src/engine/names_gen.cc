// names_gen: "<adjective>_<surname>" container names from berth's own lists.
#include "engine/names_gen.h"

#include <iterator>
#include <mutex>

namespace berth::engine {
namespace {

const char* const kAdjectives[] = {
    "agile",  "amber",    "ample",    "ardent", "azure",    "bold",     "brave",   "breezy",
    "bright", "brisk",    "calm",     "candid", "cheery",   "civic",    "clever",  "cosmic",
    "crisp",  "curious",  "daring",   "dapper", "deft",     "eager",    "earnest", "elated",
    "epic",   "fearless", "festive",  "fluent", "frank",    "gallant",  "gentle",  "gifted",
    "glad",   "golden",   "graceful", "hardy",  "hearty",   "honest",   "humble",  "jolly",
    "jovial", "keen",     "kind",     "lively", "loyal",    "lucid",    "mellow",  "merry",
    "mighty", "modest",   "nimble",   "noble",  "patient",  "plucky",   "polite",  "proud",
    "quick",  "quiet",    "radiant",  "rapid",  "ready",    "resolute", "robust",  "serene",
    "sharp",  "shiny",    "sincere",  "snappy", "solid",    "spry",     "steady",  "stoic",
    "sturdy", "sunny",    "swift",    "tidy",   "tranquil", "upbeat",   "valiant", "vivid",
    "warm",   "witty",    "zealous",  "zesty"};

// Surnames of scientists, mathematicians and engineers.
const char* const kSurnames[] = {
    "abel",        "agnesi",   "alhazen",    "ampere",      "avogadro",  "babbage",
    "bernoulli",   "bessel",   "bohr",       "boltzmann",   "boole",     "bose",
    "brahe",       "cantor",   "carnot",     "cauchy",      "cavendish", "chandrasekhar",
    "coulomb",     "dedekind", "descartes",  "dirac",       "doppler",   "euclid",
    "euler",       "faraday",  "fermat",     "fermi",       "fibonacci", "fourier",
    "franklin",    "fresnel",  "galois",     "gauss",       "germain",   "gibbs",
    "godel",       "halley",   "hamilton",   "hertz",       "hilbert",   "hooke",
    "huygens",     "jacobi",   "joule",      "kelvin",      "kepler",    "kovalevskaya",
    "lagrange",    "laplace",  "lavoisier",  "leavitt",     "legendre",  "leibniz",
    "lovelace",    "lorentz",  "maxwell",    "meitner",     "mendel",    "mendeleev",
    "minkowski",   "napier",   "newton",     "noether",     "ohm",       "pascal",
    "pauli",       "planck",   "poincare",   "ramanujan",   "riemann",   "rutherford",
    "schrodinger", "shannon",  "somerville", "stokes",      "tesla",     "thomson",
    "volta",       "wallis",   "watt",       "weierstrass", "wiener",    "yukawa"};

}  // namespace

std::string generate_name(std::mt19937_64& rng, int retry) {
  std::uniform_int_distribution<size_t> adj(0, std::size(kAdjectives) - 1);
  std::uniform_int_distribution<size_t> sur(0, std::size(kSurnames) - 1);
  std::string name = std::string(kAdjectives[adj(rng)]) + "_" + kSurnames[sur(rng)];
  if (retry > 0) {
    std::uniform_int_distribution<int> digit(0, 9);
    name += std::to_string(digit(rng));
  }
  return name;
}

std::string generate_name(int retry) {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  std::lock_guard<std::mutex> lock(mu);
  return generate_name(rng, retry);
}

}  // namespace berth::engine
