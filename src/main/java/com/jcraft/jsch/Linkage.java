package com.jcraft.jsch;

import java.lang.reflect.Field;
import java.lang.reflect.Method;

/**
 * Finds the JSch internals porthole reaches into ({@link GlobalRequests}, {@link JschChannels}),
 * failing with one message that says which member is missing, what porthole uses it for, and which
 * JSch it was built with. The app-server runs these checks before it starts, so a JSch that changed
 * under it stops start-up instead of failing every tunnel at run time.
 */
final class Linkage {
  /** The JSch porthole was compiled against (a constant, inlined at build time). */
  static final String BUILT_WITH = JSch.VERSION;

  private Linkage() {
  }

  static Field field(Class<?> owner, String name, String usedFor) {
    try {
      Field f = owner.getDeclaredField(name);
      f.setAccessible(true);
      return f;
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw missing(owner.getName() + "." + name + " (a field)", usedFor, e);
    }
  }

  static Method method(Class<?> owner, String name, String usedFor, Class<?>... params) {
    try {
      Method m = owner.getDeclaredMethod(name, params);
      m.setAccessible(true);
      return m;
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw missing(owner.getName() + "." + name + signature(params), usedFor, e);
    }
  }

  private static String signature(Class<?>... params) {
    StringBuilder s = new StringBuilder("(");
    for (int i = 0; i < params.length; i++) {
      s.append(i == 0 ? "" : ", ").append(params[i].getSimpleName());
    }
    return s.append(')').toString();
  }

  static IllegalStateException missing(String member, String usedFor, Throwable cause) {
    return new IllegalStateException("the JSch library in use (" + runningVersion() + ") lacks " + member
        + ", which porthole uses for " + usedFor + "; porthole needs the JSch it was built with (" + BUILT_WITH
        + ")", cause);
  }

  /** The version of the JSch on the class path, read at run time (not the inlined constant). */
  static String runningVersion() {
    try {
      return String.valueOf(JSch.class.getField("VERSION").get(null));
    } catch (ReflectiveOperationException | RuntimeException e) {
      return "unknown version";
    }
  }
}
