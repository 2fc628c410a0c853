#!/usr/bin/env node
// Committed entry point, so npm links the bin before the first build.
import "../dist/main.js";
