@echo off
rem PlexCourier on Windows. With no sh on its PATH, Stash runs {pluginDir}\sh with the same arguments
rem (reference/stash-plugin-protocol.md section 1.3): "{pluginDir}/plexcourier.sh hook" or "... task". There is no
rem launcher here, so the Node entry does everything; drop the script path and pass the rest on.
setlocal
set "NODE=node"
if exist "%~dp0node.exe" set "NODE=%~dp0node.exe"
if /i "%~nx1"=="plexcourier.sh" (
  "%NODE%" "%~dp0plexcourier.cjs" %2 %3 %4 %5 %6 %7 %8 %9
) else (
  "%NODE%" "%~dp0plexcourier.cjs" %*
)
exit /b %ERRORLEVEL%
