// Command tiny is a stand-in for invd in the tests of Build's prebuilt
// binaries: it builds in a moment, and Build reads only its build
// information.
package main

func main() {}
