/*
 * banned.h: functions that zferry never calls (git's banned.h).  Use
 * snprintf with a checked result, zf_buf, or zf_argv instead.  Included
 * last by compat.h so that system headers still declare them.
 */
#ifndef ZF_BANNED_H
#define ZF_BANNED_H

#define ZF_BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) ZF_BANNED(strcpy)
#undef strcat
#define strcat(x, y) ZF_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) ZF_BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) ZF_BANNED(strncat)
#undef sprintf
#define sprintf(...) ZF_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) ZF_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) ZF_BANNED(strtok)
#undef gets
#define gets(x) ZF_BANNED(gets)
#undef system
#define system(x) ZF_BANNED(system)
#undef popen
#define popen(x, y) ZF_BANNED(popen)
#undef localtime
#define localtime(x) ZF_BANNED(localtime)
#undef gmtime
#define gmtime(x) ZF_BANNED(gmtime)
#undef atoi
#define atoi(x) ZF_BANNED(atoi)

#endif
