# FlInstall.cmake - what `cmake --install` puts where. Written for a system install, with the
# prefix given when configuring (-DCMAKE_INSTALL_PREFIX=/usr, as debian/rules does; the units'
# paths and /etc are worked out then, so `cmake --install --prefix` cannot move them): the
# programs look for /etc/faultline/*.conf, /var/lib/faultline* and /run/faultline whatever the
# prefix.
#
# All three programs go to bin/, none to sbin/: none of them needs root (the collector listens
# above 1024, the agent only connects out), and people run them as themselves
# (`faultline-agent --once`, `faultline-collector --check-config`), while Debian's PATH for
# non-root users has no /usr/sbin. Their manuals are still in section 8 (daemons).
include(GNUInstallDirs)

# systemd's own directories (pkg-config systemd), so that debhelper finds the units: on
# Debian 12 that is /lib/systemd/system, not /usr/lib/systemd/system.
pkg_get_variable(FL_SYSTEMD_UNITDIR_DEFAULT systemd systemdsystemunitdir)
if(NOT FL_SYSTEMD_UNITDIR_DEFAULT)
  set(FL_SYSTEMD_UNITDIR_DEFAULT ${CMAKE_INSTALL_PREFIX}/lib/systemd/system)
endif()
pkg_get_variable(FL_SYSUSERS_DIR_DEFAULT systemd sysusersdir)
if(NOT FL_SYSUSERS_DIR_DEFAULT)
  set(FL_SYSUSERS_DIR_DEFAULT ${CMAKE_INSTALL_PREFIX}/lib/sysusers.d)
endif()
set(FL_SYSTEMD_UNITDIR ${FL_SYSTEMD_UNITDIR_DEFAULT} CACHE PATH "where systemd units go")
set(FL_SYSUSERS_DIR ${FL_SYSUSERS_DIR_DEFAULT} CACHE PATH "where sysusers.d files go")

set(FL_DEPLOY ${CMAKE_SOURCE_DIR}/deploy)

install(TARGETS faultline-agent faultline-collector faultline
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# The agent's database probe modules, loaded only when such a probe is configured.
install(TARGETS faultline-agent-pgsql faultline-agent-mysql
  LIBRARY DESTINATION ${FL_AGENT_MODULE_DIR})

# Manuals: man/NAME.SECTION, hand-written roff.
file(GLOB FL_MAN_PAGES ${CMAKE_SOURCE_DIR}/man/*.[1-8])
foreach(page IN LISTS FL_MAN_PAGES)
  string(REGEX REPLACE "^.*\\.([1-8])$" "\\1" section ${page})
  install(FILES ${page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
endforeach()

install(FILES ${CMAKE_SOURCE_DIR}/completion/faultline
  ${CMAKE_SOURCE_DIR}/completion/faultline-agent
  ${CMAKE_SOURCE_DIR}/completion/faultline-collector
  DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)

# The commented examples are the installed configuration; both pass --check-config as they are.
install(FILES ${FL_DEPLOY}/agent.conf.example
  DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/faultline RENAME agent.conf)
install(FILES ${FL_DEPLOY}/collector.conf.example
  DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/faultline RENAME collector.conf)
install(FILES ${FL_DEPLOY}/faultline.expect.example
  DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

# The units name /usr/bin/...: point them at this install's bindir.
foreach(unit faultline-agent.service faultline-collector.service)
  file(READ ${FL_DEPLOY}/systemd/${unit} text)
  string(REPLACE "/usr/bin/" "${CMAKE_INSTALL_FULL_BINDIR}/" text "${text}")
  file(WRITE ${CMAKE_BINARY_DIR}/systemd/${unit} "${text}")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${FL_DEPLOY}/systemd/${unit})
  install(FILES ${CMAKE_BINARY_DIR}/systemd/${unit} DESTINATION ${FL_SYSTEMD_UNITDIR})
endforeach()
install(FILES ${FL_DEPLOY}/sysusers.d/faultline-agent.conf
  ${FL_DEPLOY}/sysusers.d/faultline-collector.conf DESTINATION ${FL_SYSUSERS_DIR})
