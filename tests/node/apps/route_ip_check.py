# Runs on the unix port: route_ip() against FIB-trie and route tables written by the test.
# argv: a folder holding <case>.trie and <case>.route files; prints "<case> <answer>" per case.
import os
import sys

from pysmartnode.platform._host import route_ip

folder = sys.argv[1]
for name in sorted(os.listdir(folder)):
    if name.endswith(".trie"):
        case = name[:-5]
        print(case, route_ip(folder + "/" + name, folder + "/" + case + ".route"))
