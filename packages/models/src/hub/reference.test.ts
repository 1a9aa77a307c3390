import { describe, expect, it } from "vitest";
import { InputError } from "@mm/core";
import { isCommitHash, looksLikePath, parseHubReference } from "./reference";

const COMMIT = "0123456789abcdef0123456789abcdef01234567";

describe("parseHubReference", () => {
  it.each([
    ["org/name", "org/name", "main"],
    ["HuggingFaceTB/SmolLM2-135M@v1.0", "HuggingFaceTB/SmolLM2-135M", "v1.0"],
    [`org/name@${COMMIT}`, "org/name", COMMIT],
    ["org/name@refs/pr/1", "org/name", "refs/pr/1"],
    ["my_org/model.v2", "my_org/model.v2", "main"],
  ])("%s", (reference, repoId, revision) => {
    expect(parseHubReference(reference)).toEqual({ repoId, revision });
  });

  it.each(["name", "org/", "/name", "org/na me", "org/a--b", "org/a..b", "org/-name", `org/${"x".repeat(100)}`])("rejects the id %s", (reference) => {
    expect(() => parseHubReference(reference)).toThrow(InputError);
    expect(() => parseHubReference(reference)).toThrow(/is neither an existing folder nor a Hub model id; write a Hub id as org\/name/);
  });

  it.each(["org/name@", "org/name@../../etc", "org/name@/main", "org/name@a b", "org/name@refs//pr"])("rejects the revision of %s", (reference) => {
    expect(() => parseHubReference(reference)).toThrow(/invalid revision/);
  });
});

describe("isCommitHash", () => {
  it("accepts 40 lowercase hex digits", () => {
    expect(isCommitHash(COMMIT)).toBe(true);
  });

  it.each(["main", COMMIT.slice(1), COMMIT.toUpperCase()])("rejects %s", (revision) => {
    expect(isCommitHash(revision)).toBe(false);
  });
});

describe("looksLikePath", () => {
  it.each([["./model", true], ["/abs/model", true], ["~/model", true], ["a/b/c", true], ["org/name", false], ["org/name@v1", false]])("%s gives %s", (reference, expected) => {
    expect(looksLikePath(reference)).toBe(expected);
  });
});
