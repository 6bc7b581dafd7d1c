%matplotlib inline
import numpy as np
import lesson_tools as lt
import lesson_studies as st
