# Every dependency is a Debian package found through pkg-config or its CMake config, and
# exposed as an imported target. .ci/run and scripts/install-deps.sh install them.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(nng 1.5 CONFIG REQUIRED)                                     # nng::nng (libnng-dev)
find_package(CURL 7.68 REQUIRED)                                          # CURL::libcurl
find_package(PostgreSQL REQUIRED)                                         # PostgreSQL::PostgreSQL
find_package(SQLite3 REQUIRED)                                            # SQLite::SQLite3
find_package(OpenSSL 1.1 REQUIRED COMPONENTS SSL Crypto)                  # OpenSSL::SSL, ::Crypto
pkg_check_modules(PROTOBUFC REQUIRED IMPORTED_TARGET libprotobuf-c>=1.3) # PkgConfig::PROTOBUFC
pkg_check_modules(MYSQL REQUIRED IMPORTED_TARGET mysqlclient)            # PkgConfig::MYSQL
find_program(PROTOC_C NAMES protoc-c REQUIRED)
if(FL_TESTS)
  pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)              # PkgConfig::CMOCKA
endif()
