# expect: {"1": 10, "2": 10, "3": 15} message: "leftover processes"
import os
import subprocess

subprocess.Popen(['sleep', '600'])
subprocess.Popen(['setsid', 'sleep', '601'])
if os.fork() == 0:  # a daemon that escapes the session
    os.setsid()
    if os.fork() == 0:
        os.execvp('sleep', ['sleep', '602'])
    os._exit(0)
