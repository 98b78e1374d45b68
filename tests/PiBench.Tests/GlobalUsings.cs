// The skeleton test harness (ModuleFixture.cs, ModuleTests.cs) uses xunit attributes without a using; xunit 2.x adds
// no implicit global using, so the project did not compile. One global using fixes it for every test file.
global using Xunit;
