{
  "targets": [
    {
      "target_name": "tsdill",
      "sources": ["native/tsdill.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
