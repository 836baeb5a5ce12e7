@rem `npm start` runs "exec node scripts/start.js". In a POSIX shell, exec puts node in the shell's place, so that
@rem a signal sent to npm (which it passes to its child) reaches Gatehouse. Windows' cmd.exe has no exec; it finds
@rem this file in the project folder instead, which runs the rest of the line.
@%*
